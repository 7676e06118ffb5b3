/* The test player of an exercise page (frontend/players/exercise.html), for signed-in learners.

   1. GET the questions (no answers: grading happens on the server) and draw them as a form:
      one <fieldset> per question, radio buttons for single choice, checkboxes for multiple
      choice, images beside the text. Text goes in with textContent only (author text and
      Kolibri channels' text are never markup here), so math stays readable as text.
   2. The author's display mode: "one" shows one question at a time with Previous/Next and
      "Question 2 of 5"; "all" shows the whole form. A question whose widget we cannot draw is
      shown as such and left out of the answers (the server does not count it).
   3. Submit POSTs /api/attempts/ and shows the score and passed/failed in words, the attempts
      left and "Try again" while some are.
   4. A pass may complete the course: one GET /api/progress/?channel_id= says so; then the
      certificate is rendered by a background job, so /api/certificates/ is polled a bounded
      number of times until it is ready, and "My certificates" is linked either way. */
(function () {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  var root = document.querySelector("[data-test-player]");
  if (!root) { return; }

  var CERTIFICATE_POLLS = 15;
  var CERTIFICATE_POLL_MS = 2000;

  var questionsUrl = root.getAttribute("data-questions-url");
  var attemptsUrl = root.getAttribute("data-attempts-url");
  var progressUrl = root.getAttribute("data-progress-url");
  var certificatesUrl = root.getAttribute("data-certificates-url");
  var myCertificatesUrl = root.getAttribute("data-my-certificates-url");
  var channelId = root.getAttribute("data-channel-id");
  var nodeId = root.getAttribute("data-node-id");
  var status = root.querySelector("[data-test-status]");

  var test = null;        // the questions API's answer
  var startedAt = null;
  var stepIndex = 0;      // display "one": which question is shown
  var attemptsUsed = 0;

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  var api = window.KolibriLikeApi.request;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "test-status notice notice--error" : "test-status";
    status.hidden = !text;
  }

  function percent(fraction) {
    return Math.round(fraction * 100) + "%";
  }

  function limited() {
    return typeof test.max_attempts === "number" && test.max_attempts > 0;
  }

  function attemptsLeft() {
    return limited() ? Math.max(0, test.max_attempts - attemptsUsed) : Infinity;
  }

  function attemptsText() {
    if (!limited()) { return gettext("You may try this test as many times as you like."); }
    var left = attemptsLeft();
    return left === 0 ? gettext("You have no attempts left.") :
      format(gettext("Attempts left: %(left)s of %(total)s."), { left: left, total: test.max_attempts });
  }

  // -- Drawing the questions --------------------------------------------------------------

  function questionImage(url, alt) {
    return el("img", { "class": "question__image", src: url, alt: alt, loading: "lazy" });
  }

  function drawQuestion(question, number, total) {
    var heading = format(gettext("Question %(number)s of %(total)s"), { number: number, total: total });
    if (question.unsupported) {
      var box = el("div", { "class": "question question--unsupported",
                            "data-question-id": question.id, tabindex: "-1" });
      box.appendChild(el("h2", { "class": "question__number" }, heading));
      box.appendChild(el("p", { "class": "notice" },
        gettext("This question type cannot be shown here; it is not counted.")));
      return box;
    }
    var fieldset = el("fieldset", { "class": "question", "data-question-id": question.id,
                                    tabindex: "-1" });
    var legend = el("legend", { "class": "question__legend" });
    legend.appendChild(el("span", { "class": "question__number" }, heading));
    legend.appendChild(el("span", { "class": "question__text" }, question.text || ""));
    fieldset.appendChild(legend);
    // `images` holds every picture of the question (Kolibri items may have several).
    var pictures = question.images && question.images.length ? question.images :
      (question.image ? [question.image] : []);
    pictures.forEach(function (url, index) {
      fieldset.appendChild(questionImage(url, pictures.length > 1
        ? format(gettext("Picture %(index)s for question %(number)s"), { index: index + 1, number: number })
        : format(gettext("Picture for question %(number)s"), { number: number })));
    });
    fieldset.appendChild(el("p", { "class": "question__hint" },
      question.multiple ? gettext("Choose every correct answer.") : gettext("Choose one answer.")));
    var list = el("ul", { "class": "choices" });
    (question.choices || []).forEach(function (choice, index) {
      var inputId = "q-" + question.id + "-" + index;
      var item = el("li", { "class": "choice" });
      var input = el("input", { type: question.multiple ? "checkbox" : "radio", id: inputId,
                                name: "q-" + question.id, value: choice.id });
      var label = el("label", { "for": inputId, "class": "choice__label" });
      label.appendChild(el("span", { "class": "choice__text" }, choice.text || ""));
      if (choice.image) {
        label.appendChild(questionImage(choice.image,
          choice.text ? "" : format(gettext("Answer %(index)s of question %(number)s"), { index: index + 1, number: number })));
      }
      item.appendChild(input);
      item.appendChild(label);
      list.appendChild(item);
    });
    fieldset.appendChild(list);
    return fieldset;
  }

  function drawTest() {
    var form = el("form", { "class": "test-form", novalidate: "" });
    var questions = test.questions || [];
    var steps = el("div", { "class": "test-steps" });
    questions.forEach(function (question, index) {
      steps.appendChild(drawQuestion(question, index + 1, questions.length));
    });
    form.appendChild(steps);

    var nav = el("div", { "class": "test-nav" });
    var one = test.display === "one" && questions.length > 1;
    if (one) {
      var indicator = el("p", { "class": "test-nav__indicator", "aria-live": "polite",
                                "data-step-indicator": "" });
      var bar = el("progress", { "class": "test-nav__bar", max: String(questions.length),
                                 value: "1", "aria-hidden": "true" });
      var previous = el("button", { type: "button", "class": "button button--secondary",
                                    "data-step": "previous" }, gettext("Previous"));
      var next = el("button", { type: "button", "class": "button", "data-step": "next" }, gettext("Next"));
      previous.addEventListener("click", function () { showStep(stepIndex - 1, true); });
      next.addEventListener("click", function () { showStep(stepIndex + 1, true); });
      nav.appendChild(indicator);
      nav.appendChild(bar);
      nav.appendChild(previous);
      nav.appendChild(next);
    }
    var submit = el("button", { type: "submit", "class": "button", "data-submit": "" },
                    gettext("Submit answers"));
    nav.appendChild(submit);
    form.appendChild(nav);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submitAnswers(form, submit);
    });
    form.addEventListener("change", function () {
      // An answer changed after a "some are unanswered" warning: ask again next time.
      submit.removeAttribute("data-confirmed");
      submit.textContent = gettext("Submit answers");
    });

    var area = root.querySelector("[data-test-area]");
    area.textContent = "";
    area.appendChild(form);
    startedAt = new Date().toISOString();
    stepIndex = 0;
    if (one) { showStep(0, false); }
  }

  function showStep(index, moveFocus) {
    var form = root.querySelector(".test-form");
    var items = form.querySelectorAll(".question");
    var total = items.length;
    stepIndex = Math.max(0, Math.min(total - 1, index));
    Array.prototype.forEach.call(items, function (item, position) {
      item.hidden = position !== stepIndex;
    });
    form.querySelector("[data-step-indicator]").textContent =
      format(gettext("Question %(number)s of %(total)s"), { number: stepIndex + 1, total: total });
    form.querySelector(".test-nav__bar").value = stepIndex + 1;
    form.querySelector('[data-step="previous"]').hidden = stepIndex === 0;
    form.querySelector('[data-step="next"]').hidden = stepIndex === total - 1;
    // Submitting is offered on the last question, where every question has been seen.
    form.querySelector("[data-submit]").hidden = stepIndex !== total - 1;
    if (moveFocus) { items[stepIndex].focus(); }
  }

  // -- Submitting ---------------------------------------------------------------------------

  function collectAnswers(form) {
    var answers = {};
    var unanswered = [];
    (test.questions || []).forEach(function (question, index) {
      if (question.unsupported) { return; }
      var checked = form.querySelectorAll('input[name="q-' + question.id + '"]:checked');
      answers[question.id] = Array.prototype.map.call(checked, function (input) { return input.value; });
      if (!checked.length) { unanswered.push(index + 1); }
    });
    return { answers: answers, unanswered: unanswered };
  }

  function submitAnswers(form, submit) {
    var collected = collectAnswers(form);
    if (collected.unanswered.length && !submit.hasAttribute("data-confirmed")) {
      // One more press sends them as they are: a learner may really not know an answer.
      say(format(ngettext(
        "Not answered yet: question %(numbers)s. Press \u201cSubmit anyway\u201d to send your answers as they are; unanswered questions count as wrong.",
        "Not answered yet: questions %(numbers)s. Press \u201cSubmit anyway\u201d to send your answers as they are; unanswered questions count as wrong.",
        collected.unanswered.length), { numbers: collected.unanswered.join(", ") }), true);
      submit.setAttribute("data-confirmed", "");
      submit.textContent = gettext("Submit anyway");
      return;
    }
    submit.disabled = true;
    say(gettext("Checking your answers\u2026"), false);
    api("POST", attemptsUrl, { channel_id: channelId, node_id: nodeId,
                               answers: collected.answers, started_at: startedAt })
      .then(function (answer) {
        if (answer.status === 409) {
          attemptsUsed = test.max_attempts || attemptsUsed;
          showNoAttemptsLeft(answer.data.detail);
          return;
        }
        if (answer.status === 401 || answer.status === 403) {
          // Signed out meanwhile (another tab, an expired session): the answers stay on the
          // page, and signing in again in another tab lets the learner press Submit again.
          submit.disabled = false;
          say(gettext("You are signed out, so your answers were not sent. Sign in again (in another tab keeps this page as it is), then press Submit again."), true);
          return;
        }
        if (!answer.ok) {
          submit.disabled = false;
          say((answer.data && answer.data.detail) ||
              format(gettext("The server could not check your answers (%(status)s). Try again."), { status: answer.status }), true);
          return;
        }
        attemptsUsed += 1;
        if (typeof answer.data.attempts_used === "number") { attemptsUsed = answer.data.attempts_used; }
        showInfo();
        showResult(answer.data);
      })
      .catch(function () {
        submit.disabled = false;
        say(gettext("The server did not answer. Check the connection and press Submit again."), true);
      });
  }

  function showNoAttemptsLeft(detail) {
    var area = root.querySelector("[data-test-area]");
    area.textContent = "";
    say("", false);
    var box = el("div", { "class": "test-result test-result--failed", tabindex: "-1",
                          "data-test-result": "" });
    box.appendChild(el("p", { "class": "test-result__headline" },
      detail || gettext("You have used every attempt at this test.")));
    area.appendChild(box);
    box.focus();
  }

  function showResult(result) {
    var area = root.querySelector("[data-test-area]");
    area.textContent = "";
    say("", false);
    var passed = !!result.passed;
    var box = el("div", { "class": "test-result " + (passed ? "test-result--passed" : "test-result--failed"),
                          tabindex: "-1", role: "status", "data-test-result": passed ? "passed" : "failed" });
    box.appendChild(el("p", { "class": "test-result__headline" },
      passed ? gettext("You passed this test.") : gettext("You did not pass this time.")));
    var detail = format(gettext("Your score: %(score)s."), { score: percent(result.score || 0) });
    // results: {question_id: true (right), false (wrong), null (not counted)}.
    var graded = Object.keys(result.results || {}).filter(function (id) {
      return result.results[id] !== null;
    });
    if (graded.length) {
      var right = graded.filter(function (id) { return result.results[id] === true; }).length;
      detail = format(ngettext("Your score: %(score)s (%(right)s of %(count)s question right).",
                               "Your score: %(score)s (%(right)s of %(count)s questions right).", graded.length),
                      { score: percent(result.score || 0), right: right, count: graded.length });
    }
    if (typeof test.pass_mark === "number") {
      detail += " " + format(gettext("You need %(mark)s to pass."), { mark: percent(test.pass_mark) });
    }
    box.appendChild(el("p", {}, detail));
    box.appendChild(el("p", { "data-attempts-left": "" }, attemptsText()));
    if (!passed && attemptsLeft() > 0) {
      var again = el("button", { type: "button", "class": "button", "data-try-again": "" }, gettext("Try again"));
      again.addEventListener("click", function () {
        drawTest();
        var first = root.querySelector(".question");
        if (first) { first.focus(); }
      });
      box.appendChild(again);
    }
    area.appendChild(box);
    box.focus();
    if (passed) { checkCourseCompleted(box, result.certificate); }
  }

  // -- Course completion and the certificate --------------------------------------------------

  function courseSummary(data) {
    var courses = (data && (data.courses || data.channels)) || [];
    for (var index = 0; index < courses.length; index += 1) {
      if (courses[index].channel_id === channelId) { return courses[index]; }
    }
    return null;
  }

  function checkCourseCompleted(box, certificate) {
    // The attempt's answer names the certificate when this pass completed the course;
    // otherwise the course summary says whether it is complete (e.g. completed earlier).
    var known = certificate ? Promise.resolve({
      completed: true, name: certificate.course_name, certificate_id: certificate.id })
      : api("GET", progressUrl).then(function (answer) {
        return answer.ok ? courseSummary(answer.data) : null;
      });
    known.then(function (course) {
      if (!course || !course.completed) { return; }
      var done = el("div", { "class": "course-complete", "data-course-complete": "" });
      done.appendChild(el("p", { "class": "course-complete__headline" },
        format(gettext("You have completed the course \u201c%(name)s\u201d."), { name: course.name || gettext("this course") })));
      var certificate = el("p", { "data-certificate-state": "pending" },
        gettext("Your certificate is being prepared\u2026"));
      done.appendChild(certificate);
      var link = el("a", { href: myCertificatesUrl, "data-my-certificates": "" }, gettext("Go to My certificates"));
      done.appendChild(el("p")).appendChild(link);
      box.appendChild(done);
      waitForCertificate(certificate, course.certificate_id, 0);
    });
  }

  function waitForCertificate(line, certificateId, polls) {
    // Known id: its own URL; else the newest-first list, where this course's is on page 1.
    var url = certificateId ? certificatesUrl + encodeURIComponent(certificateId) + "/" : certificatesUrl;
    api("GET", url).then(function (answer) {
      var found = null;
      if (answer.ok && certificateId) {
        found = answer.data;
      } else if (answer.ok) {
        (answer.data.results || []).forEach(function (item) {
          if (item.channel_id === channelId) { found = found || item; }
        });
      }
      if (found && found.state === "ready") {
        line.setAttribute("data-certificate-state", "ready");
        line.textContent = gettext("Your certificate is ready to download from My certificates.");
        return;
      }
      if (found && found.state === "failed") {
        line.setAttribute("data-certificate-state", "failed");
        line.textContent = gettext("Your certificate could not be made. Ask your teacher or admin; your completed course is recorded.");
        return;
      }
      if (polls + 1 >= CERTIFICATE_POLLS) {
        // Still rendering (a busy server): it will be on My certificates when it is done.
        line.textContent = gettext("Your certificate is still being prepared. It will appear on My certificates in a few minutes.");
        return;
      }
      window.setTimeout(function () { waitForCertificate(line, certificateId, polls + 1); },
                        CERTIFICATE_POLL_MS);
    }).catch(function () {
      line.textContent = gettext("Your certificate will appear on My certificates.");
    });
  }

  function showInfo() {
    var info = root.querySelector("[data-test-info]");
    var count = (test.questions || []).length;
    var parts = [format(ngettext("%(count)s question.", "%(count)s questions.", count), { count: count })];
    if (typeof test.pass_mark === "number") { parts.push(format(gettext("Pass mark: %(mark)s."), { mark: percent(test.pass_mark) })); }
    parts.push(attemptsText());
    info.textContent = parts.join(" ");
    info.hidden = false;
  }

  // -- Start ------------------------------------------------------------------------------

  say(gettext("Loading the test\u2026"), false);
  api("GET", questionsUrl).then(function (answer) {
    if (!answer.ok) {
      say((answer.data && answer.data.detail) ||
          format(gettext("This test could not be loaded (%(status)s)."), { status: answer.status }), true);
      return;
    }
    test = answer.data;
    attemptsUsed = test.attempts_used || 0;
    showInfo();
    say("", false);
    if (!(test.questions || []).length) {
      say(gettext("This test has no questions."), true);
      return;
    }
    if (limited() && attemptsLeft() === 0) {
      showNoAttemptsLeft(format(ngettext("You have used all %(count)s attempt at this test.",
        "You have used all %(count)s attempts at this test.", test.max_attempts), { count: test.max_attempts }));
      return;
    }
    drawTest();
  }).catch(function () {
    say(gettext("The server did not answer. Reload the page to try again."), true);
  });
})();
