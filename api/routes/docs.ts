// GET /openapi.json (the document, generated from the route declarations by api/openapi.ts) and GET /docs,
// the same document browsable in Swagger UI, served from the swagger-ui-dist package with no CDN.
import { Router, static as serveStatic } from 'express';
import { defineRoute, type Route } from '../route';

// The package's folder, from its absolute-path.js: require('swagger-ui-dist') itself evaluates the whole Swagger UI
// bundle (React and all), which cost the API ~54 MiB and half a second at start for files it only serves.
const SWAGGER_UI_DIR = (require('swagger-ui-dist/absolute-path.js') as () => string)();

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Herald API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/herald-init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  persistAuthorization: false,
});
`;

// Everything the page loads comes from this origin (swagger-ui-dist, served below); nothing from a CDN.
const DOCS_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export const docsRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Documentation',
    summary: 'This document',
    scope: null,
    responses: { 200: { description: 'OpenAPI 3.1.', content: { mediaType: 'application/json', schema: { type: 'object' } } } },
    handler: ({ res }, { openApi }) => {
      res.set('cache-control', 'no-cache').json(openApi());
    },
  }),
  defineRoute({
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tag: 'Documentation',
    summary: 'This document, browsable (Swagger UI)',
    scope: null,
    responses: { 200: { description: 'An HTML page.', content: { mediaType: 'text/html', schema: { type: 'string' } } } },
    handler: ({ res }) => {
      res.set(DOCS_HEADERS).set('cache-control', 'no-cache').type('html').send(DOCS_HTML);
    },
  }),
];

/** The files the docs page loads: Swagger UI's own, and the script that points it at /openapi.json. */
export function docsAssets(): Router {
  const router = Router();
  router.get('/docs/assets/herald-init.js', (_req, res) => {
    res.set(DOCS_HEADERS).set('cache-control', 'no-cache').type('js').send(DOCS_INIT);
  });
  router.use('/docs/assets', serveStatic(SWAGGER_UI_DIR, { index: false, maxAge: '1d', fallthrough: true }));
  return router;
}
