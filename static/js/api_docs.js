// Starts Swagger UI on the API docs page (templates/api/docs.html); a file, not an inline script, for the CSP.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("swagger-ui");
    if (!root || typeof window.SwaggerUIBundle !== "function") return;
    var csrf = root.dataset.csrfToken;
    root.textContent = "";
    window.SwaggerUIBundle({
      url: root.dataset.schemaUrl,
      domNode: root,
      deepLinking: true,
      displayOperationId: false,
      defaultModelsExpandDepth: 0,
      validatorUrl: null, // no badge from validator.swagger.io: this page makes no outside request
      // "Try it out" from this page runs as the signed-in user: the session cookie plus the CSRF
      // header Django asks of a session's writes.
      requestInterceptor: function (request) {
        if (request.method && request.method.toUpperCase() !== "GET") request.headers["X-CSRFToken"] = csrf;
        return request;
      },
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
