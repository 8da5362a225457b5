/* Type-ahead for facet values: suggestions from /api/facets/<facet>?prefix=, each a link that adds the filter.
   Without JavaScript the same form opens the /facets/<facet> page. Built with DOM calls only (no innerHTML). */
(function () {
  "use strict";
  var DELAY_MS = 150;

  function filterUrl(searchPath, param, value) {
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    if (params.getAll(param).indexOf(value) < 0) params.append(param, value);
    return searchPath + "?" + params.toString();
  }

  function attach(form) {
    var api = form.getAttribute("data-typeahead");       // /api/facets/<facet>
    var param = form.getAttribute("data-param");         // the search parameter it filters
    var searchPath = form.getAttribute("data-search") || "/";
    var input = form.querySelector("input[name=prefix]");
    if (!api || !param || !input) return;
    var list = document.createElement("ul");
    list.className = "suggestions";
    list.hidden = true;
    list.setAttribute("role", "listbox");
    form.appendChild(list);
    var timer = null, seq = 0;

    function clear() { while (list.firstChild) list.removeChild(list.firstChild); list.hidden = true; }

    function show(values, prefix) {
      clear();
      if (!values.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = "No match for \u201c" + prefix + "\u201d";
        list.appendChild(none);
      }
      values.forEach(function (v) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = filterUrl(searchPath, param, v.value);
        a.setAttribute("role", "option");
        var label = document.createElement("span");
        label.className = "b-label";
        label.textContent = v.label || v.value;
        var count = document.createElement("span");
        count.className = "b-count";
        count.textContent = Number(v.count).toLocaleString();
        a.appendChild(label);
        a.appendChild(count);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
    }

    function lookup() {
      var prefix = input.value.trim();
      if (!prefix) { clear(); return; }
      var mine = ++seq;
      fetch(api + "?limit=8&prefix=" + encodeURIComponent(prefix),
            {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {values: []}; })
        .then(function (data) { if (mine === seq) show(data.values || [], prefix); })
        .catch(function () { clear(); });
    }

    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(lookup, DELAY_MS); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" && !list.hidden) {
        var first = list.querySelector("a");
        if (first) { e.preventDefault(); first.focus(); }
      } else if (e.key === "Escape") { clear(); }
    });
    list.addEventListener("keydown", function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var i = links.indexOf(document.activeElement);
      if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
      else if (e.key === "ArrowUp") { e.preventDefault(); (i > 0 ? links[i - 1] : input).focus(); }
      else if (e.key === "Escape") { clear(); input.focus(); }
    });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) clear(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-typeahead]"), attach);
  });
})();
