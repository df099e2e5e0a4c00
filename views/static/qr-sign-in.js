// "Войти по QR-коду": asks every 2 seconds whether the phone has decided; once it has (or the
// request expired), reloads the page, which finishes the sign-in or says what happened. Without
// JavaScript the page's meta refresh does the same, more slowly.
(function () {
  'use strict';
  var status = document.getElementById('qr-status');
  if (!status || !status.dataset.poll) return;
  var poll = status.dataset.poll;
  var next = status.dataset.next;
  function ask() {
    fetch(poll, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (res) {
        // 4xx: the sign-in itself has ended or expired — the page says what happened.
        if (res.status >= 400 && res.status < 500) return { status: 'gone' };
        return res.ok ? res.json() : { status: 'pending' };
      })
      .then(function (body) {
        if (body.status && body.status !== 'pending') window.location.assign(next);
        else setTimeout(ask, 2000);
      })
      .catch(function () {
        setTimeout(ask, 4000);
      });
  }
  setTimeout(ask, 2000);
})();
