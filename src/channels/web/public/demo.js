// The demo page: sign up or sign in (POST /api/auth/signup, /api/auth/login), then open the widget
// with the session token. The token is kept in this origin's localStorage so a reload stays signed in.
(function () {
  'use strict';
  var KEY = 'flowspark-demo-session';
  var $ = function (id) { return document.getElementById(id); };

  function saved() {
    try { return JSON.parse(localStorage.getItem(KEY) || 'null'); } catch (e) { return null; }
  }

  function showSignedIn(s) {
    $('auth').hidden = true;
    $('embed').hidden = false;
    $('who').hidden = false;
    $('who').textContent = s.email + ' · ' + s.teamName;
    $('signout').hidden = false;
    $('snippet').textContent =
      '<script src="' + location.origin + '/widget.js"\n        data-tenant="' + s.slug + '"\n        data-token="TOKEN_FROM_POST_/api/widget/token" async></' + 'script>';
    window.FlowSpark.init({ token: s.token, tenant: s.slug, open: s.justSignedIn === true });
  }

  function showSignedOut() {
    $('auth').hidden = false;
    $('embed').hidden = true;
    $('who').hidden = true;
    $('signout').hidden = true;
    window.FlowSpark.destroy();
  }

  async function submit(form, path) {
    var error = form.querySelector('.error');
    error.textContent = '';
    var body = {};
    new FormData(form).forEach(function (v, k) { if (String(v).trim()) body[k] = String(v).trim(); });
    var button = form.querySelector('button');
    button.disabled = true;
    try {
      var res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      var json = await res.json().catch(function () { return {}; });
      if (!res.ok) {
        error.textContent = (json.error && json.error.message) || 'That did not work (' + res.status + ').';
        return;
      }
      var s = { token: json.token, email: json.user.email, slug: json.tenant.slug, teamName: json.tenant.name };
      localStorage.setItem(KEY, JSON.stringify(s));
      s.justSignedIn = true;
      showSignedIn(s);
    } catch (e) {
      error.textContent = 'The service cannot be reached.';
    } finally {
      button.disabled = false;
    }
  }

  $('signup').addEventListener('submit', function (e) { e.preventDefault(); submit(e.target, '/api/auth/signup'); });
  $('signin').addEventListener('submit', function (e) { e.preventDefault(); submit(e.target, '/api/auth/login'); });
  $('signout').addEventListener('click', async function () {
    var s = saved();
    localStorage.removeItem(KEY);
    if (s) await fetch('/api/auth/logout', { method: 'POST', headers: { authorization: 'Bearer ' + s.token } }).catch(function () {});
    showSignedOut();
  });

  var s = saved();
  if (s) showSignedIn(s);
})();
