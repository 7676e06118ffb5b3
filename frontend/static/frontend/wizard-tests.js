/* The course wizard's step 3: the test sets editor (after wizard-uploads.js).

   The local `W.testSets` are the truth: each change saves all of them (the API takes the
   whole list, through the core's `saver`), and a change of structure (a test set, question
   or answer added or removed) draws the editor again, then puts the focus where the author
   goes on. A question's or answer's image is a file of the draft (usage "test"): it goes up
   with `W.uploads` and is named in the question only once every byte is on the server.

   The server's messages are shown by their path ("test_sets.0.questions.1.answers"): each
   input has a data-error-for of its path, and a re-draw shows the last ones again. */
(function (W) {
  "use strict";
  // Translations (text.js, loaded by base.html before any page script).
  var translate = window.KolibriLikeText;
  var gettext = translate.gettext, ngettext = translate.ngettext, format = translate.format;
  if (!W) { return; }     // not the wizard page (wizard.js found no [data-wizard])

  var $ = W.$, $all = W.$all, el = W.el, api = W.api, showErrors = W.showErrors;
  var markSteps = W.markSteps;
  var collectRefs = W.collectRefs, disableInputs = W.disableInputs, topicOptions = W.topicOptions;
  var saver = W.saver, uploads = W.uploads, testSets = W.testSets, FILES_URL = W.FILES_URL;

  var pendingImages = new WeakMap();   // question or answer -> its image upload in flight

  function newAnswer() { return { text: "", correct: false, image: null }; }
  function newQuestion() { return { text: "", multiple: false, image: null, answers: [newAnswer(), newAnswer()] }; }
  function newTestSet() {
    return { title: "", pass_mark: 0.8, display: "all", max_attempts: null, topic: "", questions: [newQuestion()] };
  }

  function saveTestSets() {
    saver.queue({ test_sets: JSON.parse(JSON.stringify(testSets)) });
  }

  function labelled(text, input, path, extraClass) {
    var wrap = el("div", { "class": "field" + (extraClass ? " " + extraClass : "") });
    var id = "ts-" + path.replace(/\./g, "-");
    input.id = id;
    input.setAttribute("aria-describedby", id + "-error");
    var error = el("p", { "class": "field-error", "id": id + "-error", "data-error-for": "test_sets." + path });
    error.hidden = true;
    if (input.type === "checkbox") {
      var label = el("label", { "class": "checkbox", "for": id });
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + text));
      wrap.appendChild(label);
    } else {
      wrap.appendChild(el("label", { "for": id }, text));
      wrap.appendChild(input);
    }
    wrap.appendChild(error);
    return wrap;
  }

  function bound(input, target, key, read) {
    input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input", function () {
      target[key] = read(input);
      saveTestSets();
    });
    return input;
  }

  function textInput(value, multiline) {
    var input = el(multiline ? "textarea" : "input", multiline ? { rows: "2" } : { type: "text", autocomplete: "off" });
    input.value = value || "";
    return input;
  }

  function actionButton(text, hidden, handler, danger) {
    var button = el("button", { type: "button", "class": "button button--small " + (danger ? "button--danger" : "button--secondary") }, text);
    if (hidden) { button.appendChild(el("span", { "class": "visually-hidden" }, " " + hidden)); }
    button.addEventListener("click", handler);
    return button;
  }

  function restructure(focusPath) {
    saveTestSets();
    renderTestSets();
    var target = focusPath && document.getElementById("ts-" + focusPath.replace(/\./g, "-"));
    if (target) { target.focus(); }
  }

  function imageStatus(fileId) {
    var item = W.state.serverFiles[fileId];
    if (!item) { return gettext("Image uploaded"); }
    return item.name + " · " + W.stateLabel(item.state) + (item.state === "Uploading" || item.state === "Processing" ? " " + item.progress + "%" : "") + (item.error ? ": " + item.error : "");
  }

  function imageControl(owner, path, what) {
    var wrap = el("div", { "class": "field image-field", "data-image-path": path });
    var id = "ts-" + path.replace(/\./g, "-") + "-image";
    var pending = pendingImages.get(owner);
    if (owner.image) {
      wrap.appendChild(el("span", { "class": "meta" }, format(gettext("Image of %(what)s:"), { what: what }) + " "));
      wrap.appendChild(el("span", { "data-image-status": owner.image }, imageStatus(owner.image)));
      wrap.appendChild(actionButton(gettext("Remove image"), format(gettext("of %(what)s"), { what: what }), function () {
        var fileId = owner.image;
        owner.image = null;
        var stillUsed = collectRefs(testSets).some(function (item) { return item.image === fileId; });
        if (!stillUsed) { api("DELETE", FILES_URL + fileId + "/"); delete W.state.serverFiles[fileId]; }
        restructure(path.replace(/\.image$/, "") + ".image-file");
      }));
    } else if (pending) {
      wrap.appendChild(el("span", { "class": "meta", "role": "status" }, format(gettext("Uploading %(name)s"), { name: pending.file.name }) + (pending.error ? ": " + pending.error : "…")));
    } else {
      var input = el("input", { type: "file", accept: "image/png,image/jpeg,image/gif" });
      input.id = id + "-file";
      wrap.appendChild(el("label", { "for": input.id }, format(gettext("Image of %(what)s (optional)"), { what: what })));
      wrap.appendChild(input);
      input.addEventListener("change", function () {
        if (!input.files.length) { return; }
        // A question may name only a whole image: set it once every byte is on the server.
        var entry = uploads.add(input.files[0], { usage: "test", onUploaded: function (fileId) {
          pendingImages.delete(owner);
          owner.image = fileId;
          restructure();
        }, onFailed: function (message, fileId) {
          pendingImages.delete(owner);
          if (fileId) { api("DELETE", FILES_URL + fileId + "/"); }
          renderTestSets();
          var problem = {};
          problem[path] = format(gettext("the image was not uploaded: %(problem)s"), { problem: message });
          showErrors({ test_sets: problem });
        } });
        pendingImages.set(owner, entry);
        renderTestSets();
      });
    }
    var error = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    error.hidden = true;
    wrap.appendChild(error);
    return wrap;
  }

  function renderImageStates() {
    $all("[data-image-status]").forEach(function (node) { node.textContent = imageStatus(node.getAttribute("data-image-status")); });
  }

  function answerRow(question, answer, path, number) {
    var row = el("li", { "class": "answer" });
    row.appendChild(labelled(format(gettext("Answer %(number)s"), { number: number }), bound(textInput(answer.text), answer, "text", function (input) { return input.value; }), path + ".text"));
    var correct = el("input", { type: "checkbox" });
    correct.checked = !!answer.correct;
    row.appendChild(labelled(gettext("Right answer"), bound(correct, answer, "correct", function (input) { return input.checked; }), path + ".correct", "field--inline"));
    row.appendChild(imageControl(answer, path + ".image", format(gettext("answer %(number)s"), { number: number })));
    row.appendChild(actionButton(format(gettext("Remove answer %(number)s"), { number: number }), "", function () {
      question.answers.splice(question.answers.indexOf(answer), 1);
      restructure(path.replace(/\.answers\.\d+$/, "") + ".add-answer");
    }, true));
    return row;
  }

  function questionCard(testSet, question, path, number) {
    var card = el("fieldset", { "class": "question" });
    card.appendChild(el("legend", {}, format(gettext("Question %(number)s"), { number: number })));
    card.appendChild(labelled(gettext("Question text"), bound(textInput(question.text, true), question, "text", function (input) { return input.value; }), path + ".text"));
    var multiple = el("input", { type: "checkbox" });
    multiple.checked = !!question.multiple;
    card.appendChild(labelled(gettext("More than one answer is right (multiple choice)"), bound(multiple, question, "multiple", function (input) { return input.checked; }), path + ".multiple"));
    card.appendChild(imageControl(question, path + ".image", format(gettext("question %(number)s"), { number: number })));
    var answers = el("ol", { "class": "answers" });
    question.answers.forEach(function (answer, index) { answers.appendChild(answerRow(question, answer, path + ".answers." + index, index + 1)); });
    card.appendChild(answers);
    var answersError = el("p", { "class": "field-error", "data-error-for": "test_sets." + path + ".answers" });
    answersError.hidden = true;
    card.appendChild(answersError);
    var general = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    general.hidden = true;
    card.appendChild(general);
    var actions = el("div", { "class": "question__actions" });
    var addAnswer = actionButton(gettext("Add an answer"), format(gettext("to question %(number)s"), { number: number }), function () {
      question.answers.push(newAnswer());
      restructure(path + ".answers." + (question.answers.length - 1) + ".text");
    });
    addAnswer.id = "ts-" + (path + ".add-answer").replace(/\./g, "-");
    actions.appendChild(addAnswer);
    actions.appendChild(actionButton(format(gettext("Remove question %(number)s"), { number: number }), "", function () {
      testSet.questions.splice(testSet.questions.indexOf(question), 1);
      restructure(path.replace(/\.questions\.\d+$/, "") + ".add-question");
    }, true));
    card.appendChild(actions);
    return card;
  }

  function testSetCard(testSet, index) {
    var path = String(index);
    var card = el("section", { "class": "test-set", "aria-label": format(gettext("Test set %(number)s"), { number: index + 1 }) });
    card.appendChild(el("h3", {}, format(gettext("Test set %(number)s"), { number: index + 1 })));
    card.appendChild(labelled(gettext("Title"), bound(textInput(testSet.title), testSet, "title", function (input) { return input.value; }), path + ".title"));
    var grid = el("div", { "class": "test-set__settings" });
    var topic = el("select", { "data-topic-select": "" });
    topicOptions(topic, testSet.topic);
    grid.appendChild(labelled(gettext("Topic"), bound(topic, testSet, "topic", function (input) { return input.value; }), path + ".topic"));
    var passMark = el("input", { type: "number", min: "0", max: "100", step: "1", inputmode: "numeric" });
    passMark.value = testSet.pass_mark === null || testSet.pass_mark === undefined ? "" : String(Math.round(testSet.pass_mark * 100));
    grid.appendChild(labelled(gettext(/* xgettext:no-javascript-format */ "Pass mark (% of right answers)"), bound(passMark, testSet, "pass_mark", function (input) {
      return input.value === "" || isNaN(Number(input.value)) ? input.value : Number(input.value) / 100;
    }), path + ".pass_mark"));
    var display = el("select");
    display.appendChild(el("option", { value: "one" }, gettext("One question at a time")));
    display.appendChild(el("option", { value: "all" }, gettext("All questions at once")));
    display.value = testSet.display || "all";
    grid.appendChild(labelled(gettext("Show questions"), bound(display, testSet, "display", function (input) { return input.value; }), path + ".display"));
    var attempts = el("input", { type: "number", min: "1", step: "1", inputmode: "numeric", placeholder: gettext("no limit") });
    attempts.value = testSet.max_attempts ? String(testSet.max_attempts) : "";
    grid.appendChild(labelled(gettext("Attempts allowed (empty: no limit)"), bound(attempts, testSet, "max_attempts", function (input) {
      return input.value === "" ? null : (isNaN(Number(input.value)) ? input.value : Number(input.value));
    }), path + ".max_attempts"));
    card.appendChild(grid);
    testSet.questions.forEach(function (question, questionIndex) {
      card.appendChild(questionCard(testSet, question, path + ".questions." + questionIndex, questionIndex + 1));
    });
    var questionsError = el("p", { "class": "field-error", "data-error-for": "test_sets." + path + ".questions" });
    questionsError.hidden = true;
    card.appendChild(questionsError);
    var general = el("p", { "class": "field-error", "data-error-for": "test_sets." + path });
    general.hidden = true;
    card.appendChild(general);
    var actions = el("div", { "class": "question__actions" });
    var addQuestion = actionButton(gettext("Add a question"), format(gettext("to test set %(number)s"), { number: index + 1 }), function () {
      testSet.questions.push(newQuestion());
      restructure(path + ".questions." + (testSet.questions.length - 1) + ".text");
    });
    addQuestion.id = "ts-" + (path + ".add-question").replace(/\./g, "-");
    actions.appendChild(addQuestion);
    actions.appendChild(actionButton(gettext("Remove this test set"), format(gettext("(test set %(number)s)"), { number: index + 1 }), function () {
      testSets.splice(testSets.indexOf(testSet), 1);
      restructure();
      $("[data-add-test-set]").focus();
    }, true));
    card.appendChild(actions);
    return card;
  }

  function renderTestSets() {
    var container = $("[data-test-sets]");
    container.textContent = "";
    testSets.forEach(function (testSet, index) { container.appendChild(testSetCard(testSet, index)); });
    $("[data-test-sets-empty]").hidden = testSets.length > 0;
    if (W.state.lastTestSetErrors) { showErrors({ test_sets: W.state.lastTestSetErrors }); } else { markSteps(); }
    if (!W.state.editable) { disableInputs(container); }
  }

  $("[data-add-test-set]").addEventListener("click", function () {
    testSets.push(newTestSet());
    restructure((testSets.length - 1) + ".title");
  });


  W.on("step", function (step) {
    if (step === 3) { renderTestSets(); }
  });
  // An image's state (Uploading, Processing, Finished) follows the server's list.
  W.on("files-listed", function () {
    if (W.state.currentStep === 3) { renderImageStates(); }
  });
})(window.KolibriWizard);
