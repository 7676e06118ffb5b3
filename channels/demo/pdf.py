"""A few pages of lesson text as a PDF (reportlab), the same bytes for the same words.

`invariant=True` leaves out the creation date and random document id, so a seed's worksheet is
stored once however often the demo is generated.

    write_lesson_pdf(Path("friction.pdf"), title="Friction", subject="Science", sections=[...])
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

SECTION_TEXT = (
    "In this part we look at {concept} in {subject_lower}. Read the text slowly, and stop "
    "after each paragraph to say in your own words what it means. Ideas in {subject_lower} "
    "build on each other, so it pays to be sure of one step before taking the next.",
    "Try it yourself: find an example of {concept} at home, at school or on the way there. "
    "Write down what you saw, what you expected, and what surprised you. Compare your notes "
    "with a classmate's.",
    "Questions to discuss: What is {concept}? Where do we meet it every day? What would "
    "change if it did not exist? Write two questions of your own for your teacher.",
)
SECTION_NAMES = ("What it is", "Try it yourself", "Questions")


def write_lesson_pdf(path: Path, *, title: str, subject: str, concept: str) -> Path:
    """Write a three-page worksheet on `concept` to `path`."""
    styles = getSampleStyleSheet()
    document = SimpleDocTemplate(str(path), pagesize=A4, invariant=True, title=title,
                                 author="kolibri-like demo", leftMargin=2 * cm,
                                 rightMargin=2 * cm, topMargin=2 * cm, bottomMargin=2 * cm)
    words = {"concept": concept.lower(), "subject_lower": subject.lower()}
    story: list[object] = [Paragraph(title, styles["Title"]),
                           Paragraph(f"{subject} worksheet", styles["Italic"]),
                           Spacer(1, 0.6 * cm)]
    for index, (name, template) in enumerate(zip(SECTION_NAMES, SECTION_TEXT, strict=True)):
        if index:
            story.append(PageBreak())
        story.append(Paragraph(f"{index + 1}. {name}", styles["Heading2"]))
        for _repeat in range(3):
            story.append(Paragraph(template.format(**words), styles["BodyText"]))
            story.append(Spacer(1, 0.3 * cm))
    document.build(story)
    return path
