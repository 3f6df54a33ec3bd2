/* callbar console: the page's behaviour (docs/console.md).
 *
 * The API token typed at sign-in is sent once, to POST /console/api/session,
 * and the field is emptied; the page then works with the session cookie
 * (HttpOnly: this script never sees it) and sends the session's CSRF token,
 * kept in a variable only, with every change.  Nothing goes to the
 * browser's storage, and a document number leaves the form when it is sent.
 */
"use strict";
(function () {
  var ROLES = {agent: 1, supervisor: 2, admin: 3};
  var state = {lang: "en", role: null, name: null, csrf: null, number: null, page: null};
  var $ = function (id) { return document.getElementById(id); };

  /* Errors of the page itself are kept where the browser test looks. */
  window.CB_errors = [];
  window.addEventListener("error", function (e) { window.CB_errors.push(String(e.message)); });
  window.addEventListener("unhandledrejection", function (e) { window.CB_errors.push(String(e.reason)); });

  function t(key, args) {
    var d = window.CB_I18N[state.lang] || {}, s = d[key];
    if (s === undefined) s = window.CB_I18N.en[key];
    if (s === undefined) s = key;
    Object.keys(args || {}).forEach(function (k) { s = s.split("{" + k + "}").join(String(args[k])); });
    return s;
  }
  function translate() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (e) { e.textContent = t(e.getAttribute("data-i18n")); });
    var b = $("lang");
    b.textContent = state.lang === "zh" ? "English" : "中文";
    b.setAttribute("lang", state.lang === "zh" ? "en" : "zh");
    document.title = t("title");
    if (state.page === "dashboard") loadDashboard();
    if (state.status) renderStatus(state.status);
  }

  /* One call of the API: {status, body}; a change carries the CSRF token. */
  function api(method, path, body) {
    var h = {"Accept": "application/json"};
    if (body !== undefined) h["Content-Type"] = "application/json";
    if (method !== "GET" && state.csrf) h["X-CSRF-Token"] = state.csrf;
    return fetch(path, {method: method, headers: h, credentials: "same-origin", cache: "no-store",
                        body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (j) {
          if (r.status === 401 && state.role && path.indexOf("/console/api/session") !== 0) signedOut();
          return {status: r.status, body: j};
        });
      }, function () { return {status: 0, body: null}; });
  }
  function errText(r) {
    if (!r.status) return t("err.network");
    var e = r.body && r.body.error;
    return e ? e.message + " (" + e.code + ")" : "HTTP " + r.status;
  }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function clearRows(id) { var b = $(id).tBodies[0]; b.textContent = ""; return b; }

  /* ---- pages ---- */
  function allowed(page) {
    var need = {agent: 1, dashboard: 1, supervisor: 2, admin: 3}[page];
    return state.role && need && ROLES[state.role] >= need;
  }
  function show(page) {
    if (!state.role) page = "signin";
    else if (!allowed(page)) page = "agent";
    state.page = page;
    ["signin", "agent", "supervisor", "admin", "dashboard"].forEach(function (p) {
      var sec = $("page-" + p), a = $("nav-" + p);
      if (sec) sec.hidden = p !== page;
      if (a) a.setAttribute("aria-current", p === page ? "page" : "false");
    });
    if (page === "dashboard") loadDashboard();
    if (page === "admin") loadRules();
    if (page === "supervisor") loadAuditState();
    var h = $("page-" + page).querySelector("h2");
    if (h) { h.tabIndex = -1; h.focus(); }
  }
  function route() { show((location.hash || "#agent").slice(1)); }

  function signedIn(j) {
    state.role = j.role; state.name = j.name; state.csrf = j.csrf;
    $("who").textContent = j.name + " (" + j.role + ")";
    $("nav").hidden = false;
    $("signout").hidden = false;
    /* Controls a role may not use are taken out of the page, not only hidden:
     * the server refuses them anyway (403). */
    ["supervisor", "admin"].forEach(function (p) {
      if (!allowed(p)) {
        var s = $("page-" + p), a = $("nav-" + p);
        if (s) s.remove();
        if (a) a.remove();
      }
    });
    route();
  }
  function signedOut() {
    /* A fresh page: nothing of the session stays in memory. */
    state.role = null; state.csrf = null;
    history.replaceState(null, "", "/console/");
    location.reload();
  }

  $("signin-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = $("token"), tok = f.value.trim();
    f.value = "";
    $("signin-error").textContent = "";
    api("POST", "/console/api/session", {token: tok}).then(function (r) {
      if (r.status === 200) return signedIn(r.body);
      $("signin-error").textContent = r.status === 429 ? t("signin.limited")
        : r.status === 403 ? t("signin.role") : r.status === 401 ? t("signin.bad") : errText(r);
      f.focus();
    });
    tok = null;
  });
  $("signout").addEventListener("click", function () {
    api("DELETE", "/console/api/session").then(function () { signedOut(); });
  });
  $("lang").addEventListener("click", function () {
    state.lang = state.lang === "zh" ? "en" : "zh";
    translate();
  });

  /* ---- agent ---- */
  function enc(n) { return encodeURIComponent(n.trim()); }

  /* The line's effective status (GET /v1/subscribers/{number}). */
  function lookup(number) {
    $("lookup-error").textContent = "";
    return api("GET", "/v1/subscribers/" + enc(number)).then(function (r) {
      if (r.status !== 200) {
        $("status").hidden = true;
        $("lookup-error").textContent = errText(r);
        return;
      }
      state.number = r.body.subscriber;
      renderStatus(r.body);
    });
  }
  function scopeText(rec) { return rec.scope; }
  function renderStatus(s) {
    state.status = s;
    $("status").hidden = false;
    $("status-number").textContent = s.subscriber;
    var a = s.active, sum = $("status-summary");
    sum.textContent = a ? t("agent.unlocked") + ": " + t("agent.level") + " " + a.level + ", " +
      t("agent.scope") + " " + scopeText(a) + ", " + t("agent.expires") + " " + (a.expires || t("agent.never"))
      : t("agent.locked");
    sum.className = a ? "ok" : "";
    var b = clearRows("effective");
    (s.effective || []).forEach(function (e) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-service", e.service);
      tr.setAttribute("data-direction", e.direction);
      tr.setAttribute("data-verdict", e.verdict);
      cell(tr, t(e.service)); cell(tr, t(e.direction));
      cell(tr, t(e.verdict), "verdict " + e.verdict);
      cell(tr, e.rule); cell(tr, e.reason); cell(tr, e.since);
      cell(tr, e.unlock_restores ? t("yes") : t("no"));
      b.appendChild(tr);
      if (e.verdict === "block" && e.restore) {
        var tr2 = document.createElement("tr"), td = cell(tr2, e.restore, "restore");
        td.colSpan = 7;
        b.appendChild(tr2);
      }
    });
    var h = clearRows("history");
    (s.history || []).forEach(function (rec) {
      var tr = document.createElement("tr");
      [rec.created, rec.status, rec.scope, rec.level, rec.channel, rec.agent, rec.expires].forEach(function (v) { cell(tr, v); });
      h.appendChild(tr);
    });
  }
  $("lookup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    lookup($("lookup-number").value);
  });

  function unlock(body) {
    $("unlock-result").textContent = "";
    $("doc-number-error").textContent = "";
    return api("PUT", "/v1/unlocks/" + enc(state.number), body).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        $("unlock-result").textContent = r.status === 201 ? t("unlock.done") : t("unlock.same");
        return lookup(state.number);
      }
      var e = r.body && r.body.error;
      /* The check's message goes beside the field; the number itself is
       * never shown again (the server does not echo it either). */
      if (e && ((e.field && e.field.indexOf("document") === 0) || /^ID_/.test(e.code))) {
        $("doc-number-error").textContent = e.message + " (" + e.code + ")";
        $("doc-number").setAttribute("aria-invalid", "true");
        $("doc-number").focus();
      } else {
        $("unlock-result").textContent = errText(r);
      }
    });
  }
  $("unlock-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = $("doc-number"), num = f.value.trim();
    f.value = "";
    f.removeAttribute("aria-invalid");
    unlock({level: "verified", channel: "shop", service: $("unlock-service").value,
            direction: $("unlock-direction").value,
            document: {type: $("doc-type").value, number: num}});
    num = null;
  });
  $("self-unlock").addEventListener("click", function () {
    unlock({level: "self", channel: "shop", service: "any", direction: "any"});
  });

  /* ---- supervisor ---- */
  function bindSupervisor() {
    if (!$("relock-form")) return;
    $("relock-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = "?service=" + $("relock-service").value + "&direction=" + $("relock-direction").value;
      var why = $("relock-reason").value.trim();
      if (why) q += "&reason=" + encodeURIComponent(why);
      $("relock-error").textContent = "";
      $("relock-result").textContent = "";
      api("DELETE", "/v1/unlocks/" + enc($("relock-number").value) + q).then(function (r) {
        if (r.status === 200) $("relock-result").textContent = t("sup.relocked");
        else $("relock-error").textContent = errText(r);
      });
    });
    $("audit-verify").addEventListener("click", function () {
      var p = $("audit-verify-result");
      p.textContent = "…";
      api("POST", "/console/api/audit-verify").then(function (r) {
        if (r.status !== 200) { p.textContent = errText(r); return; }
        var j = r.body;
        p.textContent = j.ok ? t("sup.verify.ok", {n: j.entries, head: j.head})
          : t("sup.verify.bad", {bad: j.first_bad, n: j.entries, error: j.error});
        p.className = j.ok ? "ok" : "bad";
      });
    });
    $("bars-show").addEventListener("click", loadBars);
    $("audit-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      loadAudit();
    });
  }
  /* The auto-bars of fraud limits (GET /v1/bars), on a button: a daemon
   * without limits has no such route. */
  function loadBars() {
    var p = $("bars-result"), tab = $("bars");
    return api("GET", "/v1/bars").then(function (r) {
      var e = r.body && r.body.error;
      tab.hidden = true;
      if (r.status === 404 && e && e.code === "NO_ROUTE") { p.textContent = t("sup.bars.nolimits"); return; }
      if (r.status !== 200) { p.textContent = errText(r); return; }
      var b = clearRows("bars");
      p.textContent = r.body.bars.length ? "" : t("sup.bars.none");
      tab.hidden = !r.body.bars.length;
      r.body.bars.forEach(function (x) {
        var tr = document.createElement("tr");
        [x.key, x.limit, x.rule, x.reason, x.count, x.since, x.until].forEach(function (v) { cell(tr, v); });
        var td = document.createElement("td"), btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = t("sup.bars.lift");
        btn.addEventListener("click", function () {
          api("DELETE", "/v1/bars/" + encodeURIComponent(x.key)).then(function (d) {
            if (d.status !== 200) { p.textContent = errText(d); return; }
            loadBars().then(function () {
              p.textContent = t("sup.bars.lifted", {n: d.body.lifted, key: x.key});
            });
          });
        });
        td.appendChild(btn);
        tr.appendChild(td);
        b.appendChild(tr);
      });
    });
  }
  function loadAuditState() {
    api("GET", "/console/api/audit-state").then(function (r) {
      var p = $("audit-state");
      if (r.status !== 200) { p.textContent = errText(r); return; }
      var j = r.body;
      p.textContent = j.ok ? t("sup.chain.ok", {seq: j.head_seq})
        : t("sup.chain.bad", {at: j.chain_broken_at, rows: j.unaudited_rows});
      p.className = j.ok ? "ok" : "bad";
    });
    loadAudit();
  }
  function loadAudit() {
    var q = [], s = $("audit-subscriber").value.trim(), since = $("audit-since").value,
        lim = $("audit-limit").value;
    if (s) q.push("subscriber=" + encodeURIComponent(s));
    if (since) q.push("since=" + encodeURIComponent(since + "T00:00:00+08:00"));
    if (lim) q.push("limit=" + encodeURIComponent(lim));
    $("audit-error").textContent = "";
    api("GET", "/v1/audit" + (q.length ? "?" + q.join("&") : "")).then(function (r) {
      var b = clearRows("audit");
      if (r.status !== 200) { $("audit-error").textContent = errText(r); return; }
      r.body.entries.forEach(function (e) {
        var tr = document.createElement("tr");
        cell(tr, e.seq); cell(tr, e.time); cell(tr, e.who); cell(tr, e.what);
        cell(tr, e.subscriber); cell(tr, e.record);
        b.appendChild(tr);
      });
    });
  }

  /* ---- admin ---- */
  function loadRules(errLine) {
    return api("GET", "/console/api/rules").then(function (r) {
      if (r.status !== 200) { $("rules-meta").textContent = errText(r); return; }
      var j = r.body;
      $("rules-meta").textContent = t("admin.meta", {file: j.file, v: j.version, n: j.rules, at: j.loaded_at, sha: j.sha256});
      var ol = $("rules-text");
      ol.textContent = "";
      j.text.replace(/\n$/, "").split("\n").forEach(function (line, i) {
        var li = document.createElement("li");
        li.id = "line-" + (i + 1);
        li.textContent = line || " ";
        if (errLine === i + 1) li.className = "error-line";
        ol.appendChild(li);
      });
      var b = clearRows("counters");
      Object.keys(j.counters).sort().forEach(function (k) {
        var c = j.counters[k], tr = document.createElement("tr");
        cell(tr, k); cell(tr, c.allow); cell(tr, c.block); cell(tr, c.error);
        b.appendChild(tr);
      });
    });
  }
  function bindAdmin() {
    if (!$("reload")) return;
    $("reload").addEventListener("click", function () {
      var p = $("reload-result");
      p.textContent = "";
      api("POST", "/v1/reload").then(function (r) {
        if (r.status === 200) {
          p.textContent = t("admin.reloaded", {v: r.body.rules.version});
          p.className = "ok";
          return loadRules();
        }
        p.textContent = errText(r);
        p.className = "bad";
        /* "file:LINE:COLUMN: message": the line is marked in the text below,
         * which is still the file in use (the failed one did not replace it). */
        var m = r.body && r.body.error && /:(\d+):(\d+): /.exec(r.body.error.message);
        loadRules(m ? Number(m[1]) : undefined);
      });
    });
  }

  /* ---- dashboard ---- */
  function loadDashboard() {
    var min = $("dash-minutes").value;
    return api("GET", "/console/api/series?minutes=" + min).then(function (r) {
      if (r.status !== 200) return;
      var j = r.body, o = {start: j.start, step: j.step, empty: t("dash.empty")};
      var v = {}, colours = {};
      Object.keys(j.verdict).forEach(function (k) {
        v[t(k)] = j.verdict[k];
        colours[t(k)] = {allow: "c3", block: "c1", error: "c2"}[k];
      });
      window.CB_plot($("chart-verdict"), Object.assign({series: v, colours: colours}, o));
      window.CB_plot($("chart-front"), Object.assign({series: j.front}, o));
      window.CB_plot($("chart-rule"), Object.assign({series: j.rule}, o));
      var dl = $("registry");
      dl.textContent = "";
      if (!j.registry) {
        dl.textContent = t("dash.none");
      } else {
        [["reg.up", j.registry.up ? t("yes") : t("no")], ["reg.records", j.registry.records],
         ["reg.seq", j.registry.seq], ["reg.lag", j.registry.lag], ["reg.unaudited", j.registry.unaudited]]
          .forEach(function (p) {
            var dt = document.createElement("dt"), dd = document.createElement("dd");
            dt.textContent = t(p[0]);
            dd.textContent = p[1] === null ? "—" : String(p[1]);
            dl.appendChild(dt); dl.appendChild(dd);
          });
      }
      var b = clearRows("reloads");
      j.reloads.forEach(function (e) {
        var tr = document.createElement("tr");
        cell(tr, e.at); cell(tr, e.trigger);
        cell(tr, e.ok ? t("dash.ok") : t("dash.failed"), e.ok ? "ok" : "bad");
        cell(tr, e.version); cell(tr, e.ok ? e.sha256 : e.error, "mono");
        b.appendChild(tr);
      });
    });
  }
  $("dash-refresh").addEventListener("click", loadDashboard);
  $("dash-minutes").addEventListener("change", loadDashboard);

  /* ---- start ---- */
  window.addEventListener("hashchange", route);
  state.lang = /^zh/i.test(navigator.language || "") ? "zh" : "en";
  bindSupervisor();
  bindAdmin();
  translate();
  api("GET", "/console/api/session").then(function (r) {
    if (r.status === 200 && r.body && r.body.role) signedIn(r.body);
    else show("signin");
  });
})();
