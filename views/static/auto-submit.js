// Posts the form of the "continuing…" page at once (src/oidc/auto-submit.ts); without JavaScript its button does.
document.getElementById('auto-submit').submit();
