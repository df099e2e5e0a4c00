// Passkeys (WebAuthn) on vkhod's pages. Each button carries what it needs in data attributes:
//   data-webauthn="authenticate" | "register", data-options, data-verify, data-csrf, data-cancelled,
//   data-failed, data-duplicate (the texts shown: cancelled, failed, this authenticator already added),
//   data-name-input (register: id of the input holding the passkey's name), data-status (id of
//   the element that shows errors). Needs @simplewebauthn/browser, served as /static/vendor/webauthn-browser.js.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;

  function show(button, text) {
    var el = document.getElementById(button.dataset.status || 'webauthn-status');
    if (el) {
      el.textContent = text;
      el.hidden = false;
    }
  }

  async function post(url, csrf, payload) {
    var res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(Object.assign({ _csrf: csrf }, payload)),
    });
    var body = await res.json().catch(function () { return {}; });
    if (!res.ok) {
      // vkhod's words: the description when there is one (`error` is then a code such as invalid_request).
      var failed = new Error(body.error_description || body.error || '');
      failed.fromServer = true;
      throw failed;
    }
    return body;
  }

  async function run(button) {
    var mode = button.dataset.webauthn;
    var csrf = button.dataset.csrf;
    button.disabled = true;
    try {
      var started = await post(button.dataset.options, csrf, {});
      var response = mode === 'register'
        ? await lib.startRegistration({ optionsJSON: started.options })
        : await lib.startAuthentication({ optionsJSON: started.options });
      var nameInput = button.dataset.nameInput ? document.getElementById(button.dataset.nameInput) : null;
      var done = await post(button.dataset.verify, csrf, { handle: started.handle, response: response, name: nameInput ? nameInput.value : '' });
      window.location.assign(done.redirect || window.location.href);
    } catch (err) {
      // Never the browser's own (English) text: cancelled, already added, or vkhod's words, or a general one.
      var name = err && err.name;
      show(
        button,
        name === 'NotAllowedError' ? button.dataset.cancelled
          : err && err.fromServer && err.message ? err.message
          : name === 'InvalidStateError' && button.dataset.duplicate ? button.dataset.duplicate
          : button.dataset.failed || button.dataset.cancelled,
      );
      button.disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var supported = lib && lib.browserSupportsWebAuthn();
    document.querySelectorAll('[data-webauthn]').forEach(function (button) {
      if (!supported) {
        button.hidden = true;
        return;
      }
      button.hidden = false;
      button.addEventListener('click', function (event) {
        event.preventDefault();
        run(button);
      });
    });
  });
})();
