// Starts Swagger UI on /docs (engine/console/docs.py); no inline script, so the page's
// Content-Security-Policy allows scripts from this site only.
window.addEventListener("load", function () {
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never ask validator.swagger.io for a badge
  });
});
