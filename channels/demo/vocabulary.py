"""Words for demo channels: subjects with unit and lesson titles that read like a school course.

A seed picks a subject (seed 1 Science, seed 2 Mathematics, ...); titles combine these lists
with numbering, so a 50,000-node channel still reads like a course, with repeats deep down.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    name: str
    tagline: str
    units: tuple[str, ...]
    concepts: tuple[str, ...]


SUBJECTS: tuple[Subject, ...] = (
    Subject(
        name="Science",
        tagline="Observe, measure and explain the world around you.",
        units=("Living things", "Forces and motion", "Matter and materials", "Energy",
               "Earth and space", "Light and sound", "Electricity and magnetism",
               "The human body", "Ecosystems", "Weather and climate", "Chemical reactions",
               "Plants", "Cells", "Waves", "Rocks and soil", "Scientific method"),
        concepts=("Measuring speed", "Friction", "States of matter", "Food chains",
                  "The water cycle", "Photosynthesis", "Simple circuits", "Magnets",
                  "The solar system", "Reflection", "Mixtures and solutions", "Gravity",
                  "Heat transfer", "Habitats", "The skeleton", "Digestion", "Sound waves",
                  "Day and night", "Fossils", "Conductors and insulators", "Classification",
                  "Evaporation", "Levers and pulleys", "Microorganisms", "Acids and bases",
                  "Renewable energy", "Germination", "The moon's phases", "Pollination",
                  "Fair tests"),
    ),
    Subject(
        name="Mathematics",
        tagline="Numbers, shapes and patterns, one step at a time.",
        units=("Whole numbers", "Fractions", "Decimals", "Geometry", "Measurement",
               "Algebra", "Data and statistics", "Ratio and proportion", "Probability",
               "Number patterns", "Percentages", "Negative numbers", "Time and money",
               "Angles", "Equations", "Graphs"),
        concepts=("Place value", "Adding fractions", "Long multiplication", "Area of a rectangle",
                  "Perimeter", "Equivalent fractions", "Rounding", "Mean, median and mode",
                  "Bar charts", "Lines of symmetry", "Prime numbers", "Factors and multiples",
                  "Volume of a cuboid", "Solving for x", "Simplifying ratios",
                  "Converting units", "Angles in a triangle", "Coordinates",
                  "Long division", "Square numbers", "Percent of an amount",
                  "Ordering decimals", "Reading a clock", "Tally charts", "Circles",
                  "Patterns and sequences", "Estimating", "Mental arithmetic",
                  "Chance and likelihood", "Word problems"),
    ),
    Subject(
        name="Geography",
        tagline="Places, people and the planet we share.",
        units=("Maps and globes", "Rivers", "Mountains", "Oceans", "Cities", "Farming",
               "Climate zones", "Natural hazards", "Population", "Trade", "Deserts",
               "Forests", "Coasts", "Volcanoes", "Transport", "Resources"),
        concepts=("Reading a map key", "Compass directions", "Latitude and longitude",
                  "Erosion", "River basins", "Monsoons", "Earthquakes", "Urban growth",
                  "Crop rotation", "Tides", "Rainforest layers", "Migration", "Ports",
                  "Scale on maps", "Contour lines", "Drought", "Water supply", "Fishing",
                  "Tourism", "Mining", "Glaciers", "Floodplains", "Savannah",
                  "Time zones", "Trade routes", "Deforestation", "Recycling", "Islands",
                  "Capital cities", "Field work"),
    ),
    Subject(
        name="Health",
        tagline="Looking after yourself and the people around you.",
        units=("Healthy eating", "Hygiene", "Exercise", "Sleep", "First aid",
               "Growing up", "Feelings", "Safety at home", "Clean water", "Diseases",
               "Medicines", "Community health", "Road safety", "Friendship",
               "Dental care", "Mental health"),
        concepts=("Washing hands", "A balanced plate", "Drinking enough water",
                  "Treating a small cut", "Brushing teeth", "Why we sleep",
                  "Stretching", "Vaccines", "Mosquito nets", "Germs", "Talking about worries",
                  "Crossing the road", "Sun protection", "Allergies", "Breathing exercises",
                  "Healthy snacks", "Kind words", "Asking for help", "Reading labels",
                  "Safe storage", "Coughs and colds", "Handling food", "Fire safety",
                  "Team games", "Rest days", "Screen time", "Posture", "Clean toilets",
                  "Boiling water", "Checking for fever"),
    ),
)

KIND_LABELS = {"video": "Watch", "audio": "Listen", "document": "Read"}
LEVEL_LABELS = ("Unit", "Lesson", "Part", "Section", "Step")
# The angles of the activities on one concept, in the order a lesson takes them.
ASPECTS = ("an introduction", "step by step", "examples", "in daily life", "practice",
           "common mistakes", "questions to try", "a closer look", "review", "summary")
ACTIVITY_NOTES = {
    "video": "A short video that shows {concept} step by step. Turn on the captions if the "
             "room is noisy.",
    "audio": "Listen to this recording about {concept}, then try to explain it to a friend.",
    "document": "A printable worksheet on {concept} with explanations and questions to try.",
}


def subject_for_seed(seed: int) -> Subject:
    """Seed 1 is Science, seed 2 Mathematics, and so on round the list."""
    return SUBJECTS[(seed - 1) % len(SUBJECTS)]
