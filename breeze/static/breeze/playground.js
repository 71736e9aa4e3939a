// The playground keeps the customer's turns and replays them all with each new one.
(function () {
  "use strict";
  const root = document.getElementById("playground");
  const url = root.dataset.turnUrl;
  const $ = (id) => document.getElementById(id);
  let turns = [];

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function parseJson(id, label) {
    const raw = $(id).value.trim();
    if (!raw) return null;
    try { return JSON.parse(raw); } catch (error) { throw new Error(label + " is not valid JSON: " + error.message); }
  }

  function render(data) {
    const transcript = $("pg-transcript");
    transcript.replaceChildren(...data.transcript.map((line) => {
      const bubble = document.createElement("div");
      bubble.className = "pg-line pg-" + line.speaker;
      bubble.textContent = line.text;
      return bubble;
    }));
    transcript.scrollTop = transcript.scrollHeight;
    $("pg-node").textContent = data.nodes.length ? data.nodes[data.nodes.length - 1] : "—";
    $("pg-path").textContent = data.nodes.join(" → ") || "—";
    $("pg-outcome").textContent = data.outcome ? data.outcome + " " + JSON.stringify(data.outcome_fields) : "—";
    const events = data.events.filter((event) => event.kind !== "node_entered");
    $("pg-events").replaceChildren(...events.map((event) => {
      const item = document.createElement("li");
      item.textContent = event.kind.replace("_", " ") + ": " + JSON.stringify(event.detail);
      return item;
    }));
    const entered = data.events.filter((event) => event.kind === "node_entered");
    $("pg-config").textContent = entered.length ? JSON.stringify(entered[entered.length - 1].detail.settings, null, 2) : "—";
    let status = data.ended ? "The bot ended the call. Restart to try another path." : "";
    if (data.engine !== "rules") status += " (Answered by " + data.engine + "; replies may vary between replays.)";
    if (data.llm_note) status += " " + data.llm_note;
    if (data.unresolved_variables.length) status += " Unfilled variables: " + data.unresolved_variables.join(", ") + ".";
    setStatus(status.trim(), false);
    $("pg-text").disabled = data.ended;
  }

  function setStatus(text, isError) {
    $("pg-status").textContent = text;
    $("pg-status").classList.toggle("error", isError);
  }

  async function send(nextTurns) {
    let payload, override;
    try {
      payload = parseJson("pg-payload", "The lead payload") || {};
      override = parseJson("pg-override", "The config override");
    } catch (error) { setStatus(error.message, true); return false; }
    setStatus("…", false);
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({version: $("pg-version").value, payload, override, turns: nextTurns}),
    });
    const data = await response.json();
    if (!response.ok) {
      setStatus(data.errors.map((error) => error.path + ": " + error.message).join("; "), true);
      return false;
    }
    render(data);
    return true;
  }

  $("pg-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("pg-text").value.trim();
    if (!text) return;
    if (await send([...turns, text])) { turns = [...turns, text]; $("pg-text").value = ""; }
  });
  $("pg-reset").addEventListener("click", () => { turns = []; $("pg-text").disabled = false; send(turns); });
  $("pg-version").addEventListener("change", () => { turns = []; send(turns); });
  send(turns);
})();
