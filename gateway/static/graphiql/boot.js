/*
 * Territoires en Commun — GraphiQL bootstrap.
 *
 * Adapted from strawberry's static/graphiql.html. Kept in a separate file
 * (no inline script) so the page works under a strict Content-Security-Policy
 * (script-src 'self'). Configuration comes from data- attributes on the
 * <script id="tec-graphiql-boot"> tag that loads this file:
 *   data-graphql-path   endpoint for queries (resolved against the page URL)
 *   data-default-query  query shown when the URL has no ?q=
 *   data-default-tabs   JSON list of {query, variables}: the tabs of a first
 *                       visit (the default query's, then the ready operations)
 * Relies on globals from the vendored scripts loaded before it:
 *   React, ReactDOM, Cookies, GraphiQL, GraphiQLPluginExplorer, and
 *   TecSession (session.js: the signed-in editor's Authorization header).
 */
(function () {
  "use strict";

  var bootTag =
    document.currentScript || document.getElementById("tec-graphiql-boot");
  var graphqlPath = bootTag.getAttribute("data-graphql-path") || "/graphql";
  var defaultQuery = bootTag.getAttribute("data-default-query") || "";
  var defaultTabs = JSON.parse(bootTag.getAttribute("data-default-tabs") || "[]");

  // Parse URL parameters for sharing queries (?q=, ?variables=, ?headers=).
  var parameters = {};
  window.location.search
    .slice(1)
    .split("&")
    .forEach(function (entry) {
      var eq = entry.indexOf("=");
      if (eq >= 0) {
        parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(
          entry.slice(eq + 1),
        );
      }
    });

  function updateURL(data) {
    Object.assign(parameters, data);
    var newSearch =
      "?" +
      Object.keys(parameters)
        .filter(function (key) {
          return Boolean(parameters[key]);
        })
        .map(function (key) {
          return (
            encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key])
          );
        })
        .join("&");
    history.replaceState(null, null, newSearch);
  }

  var fetchURL = new URL(graphqlPath, window.location.href);
  fetchURL.search = "";
  fetchURL.hash = "";
  fetchURL = fetchURL.toString();

  function httpUrlToWebSocketUrl(url) {
    var parsedURL = new URL(url);
    parsedURL.protocol = parsedURL.protocol === "http:" ? "ws:" : "wss:";
    parsedURL.hash = "";
    return parsedURL.toString();
  }

  // Django-style CSRF cookie, as in strawberry's page (harmless when absent).
  var defaultHeaders = {};
  var csrfToken = window.Cookies ? Cookies.get("csrftoken") : undefined;
  if (csrfToken) {
    defaultHeaders["x-csrftoken"] = csrfToken;
  }

  // Headers typed in the IDE's "Headers" tab (e.g. {"Authorization": "Bearer …"})
  // are merged over defaultHeaders by GraphiQL for every request.
  var graphiqlFetcher = GraphiQL.createFetcher({
    url: fetchURL,
    headers: defaultHeaders,
    subscriptionUrl: httpUrlToWebSocketUrl(fetchURL),
  });

  // The signed-in editor's token goes with every operation: as a header over
  // HTTP, and in connection_init over WebSocket (GraphiQL opens one per
  // subscription with the operation's headers as connection parameters).
  // A header typed in the "Headers" tab wins over it.
  function fetcher(graphQLParams, fetcherOpts) {
    var options = Object.assign({}, fetcherOpts);
    options.headers = Object.assign(
      {},
      window.TecSession ? window.TecSession.headers() : {},
      (fetcherOpts && fetcherOpts.headers) || {},
    );
    return graphiqlFetcher(graphQLParams, options);
  }

  // A shared link (?q=) opens in the first tab of a first visit.
  if (parameters.q && defaultTabs.length) {
    defaultTabs[0] = { query: parameters.q, variables: parameters.variables };
  }

  var explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

  function GraphiQLWithExplorer() {
    var queryState = React.useState(parameters.q || defaultQuery);
    var variablesState = React.useState(parameters.variables);
    var headersState = React.useState(parameters.headers);

    function onEditQuery(newQuery) {
      queryState[1](newQuery);
      updateURL({ q: newQuery });
    }

    function onEditVariables(newVariables) {
      variablesState[1](newVariables);
      updateURL({ variables: newVariables });
    }

    function onEditHeaders(newHeaders) {
      // Not written to the URL: headers may hold a bearer token.
      headersState[1](newHeaders);
    }

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: defaultTabs.length ? defaultTabs : undefined,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query: queryState[0],
      variables: variablesState[0],
      headers: headersState[0],
      onEditQuery: onEditQuery,
      onEditVariables: onEditVariables,
      onEditHeaders: onEditHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQLWithExplorer));
})();
