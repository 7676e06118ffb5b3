/* How page scripts call the JSON API: with the session cookie and the CSRF token that
   Django's CsrfViewMiddleware asks of every state-changing request. Loaded by base.html
   before the page scripts.

     KolibriLikeApi.request("POST", "/api/attempts/", body).then(function (answer) {
       answer.ok, answer.status, answer.data   // data: the JSON body, {} if there is none
     });
     KolibriLikeApi.request("POST", url, body, { keepalive: true, token: formToken });

   The token comes from the page's form when one is given (csrfmiddlewaretoken), else from
   the csrftoken cookie. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form && form.querySelector("[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function request(method, url, body, options) {
    options = options || {};
    var init = { method: method, credentials: "same-origin", keepalive: !!options.keepalive,
                 headers: { "Accept": "application/json",
                            "X-CSRFToken": options.token || csrfToken(null) } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  window.KolibriLikeApi = { csrfToken: csrfToken, request: request };
})();
