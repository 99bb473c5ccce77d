// The live page: the rising topics and the busiest ones the pipeline found, the chosen one per
// minute, refreshed on its own. Topic names are data: written with textContent, never as markup.
// Query parameters (all optional): topics (comma-separated: rank only these), topic (chosen), to
// (window end, RFC 3339; default now), minutes (window length, default 60), refresh (seconds,
// default 10).
"use strict";
(() => {
  const params = new URLSearchParams(location.search);
  const state = {
    topics: (params.get("topics") || "").split(",").map((t) => t.trim()).filter(Boolean),
    chosen: params.get("topic"),
    to: params.get("to"),
    minutes: Math.min(Math.max(Number(params.get("minutes")) || 60, 1), 1440),
    refresh: Math.max(Number(params.get("refresh")) || 10, 1),
  };
  const SERIES = [
    ["positive", "#2e7d32"], ["negative", "#c62828"], ["neutral", "#757575"], ["mixed", "#f9a825"],
  ];
  const status = document.getElementById("status");
  let chart = null;
  let chartTopic = null;

  function windowParams() {
    const end = state.to ? new Date(state.to) : new Date();
    const start = new Date(end.getTime() - (state.minutes - 1) * 60000);
    return { from: start.toISOString(), to: end.toISOString() };
  }

  async function getJson(path, query) {
    const url = new URL(path, location.href);
    for (const [key, value] of Object.entries(query)) {
      for (const item of [].concat(value)) url.searchParams.append(key, item);
    }
    const response = await fetch(url);
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
    return body;
  }

  function remember() {
    const next = new URLSearchParams(location.search);
    if (state.topics.length) next.set("topics", state.topics.join(",")); else next.delete("topics");
    if (state.chosen) next.set("topic", state.chosen);
    history.replaceState(null, "", `?${next}`);
  }

  function row(topic, values) {
    const tr = document.createElement("tr");
    tr.dataset.topic = topic;
    if (topic === state.chosen) tr.className = "chosen";
    for (const value of [topic, ...values]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      tr.append(cell);
    }
    tr.addEventListener("click", () => { state.chosen = topic; remember(); refresh(); });
    return tr;
  }

  function renderTrending(trending) {
    document.getElementById("trending-window").textContent =
      `${trending.recent_first_minute} – ${trending.recent_last_minute} UTC against the ` +
      `${trending.baseline_first_minute} – ${trending.baseline_last_minute} baseline`;
    document.querySelector("#trending tbody").replaceChildren(...trending.topics.map((entry) =>
      row(entry.topic, [`×${entry.score.toFixed(2)}`, entry.recent_count,
        entry.expected_count, entry.positive, entry.negative, entry.neutral, entry.mixed])));
  }

  function renderTopics(ranking) {
    document.getElementById("window").textContent =
      `${ranking.first_minute} – ${ranking.last_minute} UTC`;
    document.querySelector("#topics tbody").replaceChildren(...ranking.topics.map((entry) =>
      row(entry.topic, [entry.tweet_count, entry.positive, entry.negative, entry.neutral,
        entry.mixed])));
  }

  function renderSeries(series) {
    const x = series.minutes.map((minute) => Date.parse(`${minute}:00Z`) / 1000);
    const data = [x, ...SERIES.map(([name]) => series[name])];
    document.getElementById("chosen").textContent = series.topic;
    const box = document.getElementById("chart");
    box.dataset.points = String(series.tweet_count.reduce((a, b) => a + b, 0));
    box.dataset.minutes = String(series.minutes.length);
    if (chart && chartTopic === series.topic) {
      chart.setData(data);
      return;
    }
    if (chart) chart.destroy();
    chartTopic = series.topic;
    chart = new uPlot({
      width: Math.min(window.innerWidth - 64, 1100),
      height: 320,
      scales: { x: { time: true } },
      series: [{}, ...SERIES.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
      axes: [{}, { label: "tweets / minute" }],
    }, data, box);
  }

  async function refresh() {
    try {
      const win = windowParams();
      const named = state.topics.length ? { topic: state.topics } : {};
      const [trending, ranking] = await Promise.all([
        getJson("api/trending", { to: win.to, ...named }),
        getJson("api/topics", { ...win, ...named }),
      ]);
      renderTrending(trending);
      renderTopics(ranking);
      if (!state.chosen) {
        const first = trending.topics[0] || ranking.topics[0];
        if (first) state.chosen = first.topic;
      }
      if (state.chosen) renderSeries(await getJson("api/series", { ...win, topic: state.chosen }));
      status.className = "";
      status.textContent = `updated ${new Date().toLocaleTimeString()}`;
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    } catch (error) {
      status.className = "error";
      status.textContent = error.message;
    }
  }

  const input = document.getElementById("topics-input");
  input.value = state.topics.join(", ");
  document.getElementById("topics-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.topics = input.value.split(",").map((t) => t.trim()).filter(Boolean);
    state.chosen = null;
    remember();
    refresh();
  });
  // The next update is scheduled when this one ends, so a slow answer never piles requests up.
  async function poll() {
    await refresh();
    setTimeout(poll, state.refresh * 1000);
  }
  poll();
})();
