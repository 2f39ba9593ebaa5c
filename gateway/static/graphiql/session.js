/*
 * Territoires en Commun — the IDE's sign-in panel.
 *
 * Signs in with the `signIn` mutation, keeps the bearer token in this tab's
 * sessionStorage only (closing the tab forgets it; other tabs are not signed
 * in), shows who is signed in (the `me` query) and signs out (`signOut`, then
 * the token is forgotten whatever the answer). boot.js asks
 * `TecSession.headers()` for the Authorization header of every request of
 * GraphiQL, HTTP and WebSocket (connection_init) alike.
 *
 * No inline script: the page's Content-Security-Policy allows scripts from
 * the gateway only. Loaded before boot.js; reads the endpoint from the
 * data-graphql-path attribute of <header id="tec-session">.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "tec.ide.token";
  var ROLES = {
    ADMIN: "administration",
    EDITOR: "édition",
    LOCAL_AUTHORITY: "collectivité",
    PARTNER: "partenaire",
  };
  var SIGN_IN =
    "mutation IdeSignIn($email: String!, $password: String!) {\n" +
    "  signIn(email: $email, password: $password) { token errors { message } }\n}";
  var VIEWER = "query IdeViewer { me { displayName email role } }";
  var SIGN_OUT = "mutation IdeSignOut { signOut { signedOut } }";

  var panel = document.getElementById("tec-session");
  var form = document.getElementById("tec-sign-in");
  var signedIn = document.getElementById("tec-signed-in");
  var nameSlot = document.getElementById("tec-viewer-name");
  var roleSlot = document.getElementById("tec-viewer-role");
  var signOutButton = document.getElementById("tec-sign-out");
  var message = document.getElementById("tec-session-message");

  var endpoint = new URL(
    panel.getAttribute("data-graphql-path") || "/graphql",
    window.location.href,
  );
  endpoint.search = "";
  endpoint.hash = "";

  function token() {
    try {
      return window.sessionStorage.getItem(STORAGE_KEY);
    } catch (error) {
      return null; // storage disabled: nobody stays signed in
    }
  }

  function keep(value) {
    try {
      if (value) {
        window.sessionStorage.setItem(STORAGE_KEY, value);
      } else {
        window.sessionStorage.removeItem(STORAGE_KEY);
      }
    } catch (error) {
      /* storage disabled */
    }
  }

  function headers() {
    var secret = token();
    return secret ? { Authorization: "Bearer " + secret } : {};
  }

  function post(query, variables, authenticated) {
    var sent = { "content-type": "application/json" };
    if (authenticated) {
      Object.assign(sent, headers());
    }
    return window
      .fetch(endpoint.toString(), {
        method: "POST",
        headers: sent,
        body: JSON.stringify({ query: query, variables: variables || {} }),
      })
      .then(function (response) {
        return response.json();
      });
  }

  function firstError(body) {
    return body && body.errors && body.errors.length ? body.errors[0].message : "";
  }

  function say(text) {
    message.textContent = text || "";
  }

  function showAnonymous() {
    signedIn.hidden = true;
    form.hidden = false;
    nameSlot.textContent = "";
    roleSlot.textContent = "";
    panel.setAttribute("data-state", "anonymous");
  }

  function showViewer(account) {
    nameSlot.textContent = account.displayName || account.email;
    roleSlot.textContent = ROLES[account.role] || account.role;
    form.hidden = true;
    signedIn.hidden = false;
    panel.setAttribute("data-state", "signed-in");
  }

  // Who the kept token belongs to; a token the gateway refuses is forgotten.
  function refresh() {
    if (!token()) {
      showAnonymous();
      return Promise.resolve();
    }
    return post(VIEWER, {}, true).then(
      function (body) {
        var account = body && body.data && body.data.me;
        if (account) {
          showViewer(account);
        } else {
          keep(null);
          showAnonymous();
          say(firstError(body) || "Session terminée : reconnectez-vous.");
        }
      },
      function () {
        say("Le serveur ne répond pas : réessayez.");
      },
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var fields = new FormData(form);
    say("Connexion…");
    post(SIGN_IN, { email: fields.get("email"), password: fields.get("password") }, false).then(
      function (body) {
        var result = body && body.data && body.data.signIn;
        if (!result || !result.token) {
          say(firstError(body) || "Connexion impossible.");
          return;
        }
        keep(result.token);
        form.reset();
        say("");
        return refresh();
      },
      function () {
        say("Le serveur ne répond pas : réessayez.");
      },
    );
  });

  signOutButton.addEventListener("click", function () {
    var finish = function () {
      keep(null);
      showAnonymous();
      say("Vous êtes déconnecté·e.");
    };
    post(SIGN_OUT, {}, true).then(finish, finish);
  });

  window.TecSession = { headers: headers };
  refresh();
})();
