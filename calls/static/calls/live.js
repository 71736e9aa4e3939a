// Live calls: the list of calls in progress (polled) and one call's transcript (websocket).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  // --- The list ---
  function startList(root) {
    async function refresh() {
      try {
        const response = await fetch(root.dataset.rowsUrl, { credentials: "same-origin" });
        if (!response.ok) return;
        const rows = (await response.json()).calls;
        $("live-calls-body").replaceChildren(...rows.map((row) => {
          const tr = document.createElement("tr");
          tr.dataset.testid = "live-call-row";
          tr.dataset.callId = row.id;
          const status = cell(row.status);
          status.dataset.testid = "live-call-status";
          const link = document.createElement("a");
          link.href = row.watch_url;
          link.textContent = "Watch";
          link.dataset.testid = "live-watch-link";
          const action = document.createElement("td");
          action.append(link);
          tr.append(cell(row.id), cell(row.merchant), cell(row.template), cell(row.provider), status,
            cell(row.node || "—"), cell(row.created_at), action);
          return tr;
        }));
        $("live-none").hidden = rows.length > 0;
      } catch (error) {
        // The next refresh tries again.
      }
    }
    setInterval(refresh, Number(root.dataset.refreshMs) || 3000);
  }

  // --- One call ---
  const CLOSE_REASONS = {
    4401: "Your session has ended: sign in again to watch.",
    4404: "No such call among your merchants.",
  };

  function startWatch(root) {
    const transcript = $("live-transcript");
    const latency = $("live-latency-body");
    const endButton = $("live-end-call");
    let mayEnd = false;
    let ended = false;
    let socket = null;

    function setStatus(text, isError) {
      $("live-status").textContent = text;
      $("live-status").classList.toggle("error", Boolean(isError));
    }

    function addTurn(turn) {
      const line = document.createElement("div");
      line.className = "live-turn live-" + turn.speaker;
      line.dataset.testid = "live-turn";
      line.dataset.index = turn.index;
      line.dataset.speaker = turn.speaker;
      const meta = document.createElement("small");
      const waited = turn.latency_ms === null ? "" : ` · ${turn.latency_ms} ms`;
      meta.textContent = `${turn.speaker} · ${turn.node || "—"}${waited}`;
      const said = document.createElement("span");
      said.textContent = turn.text + (turn.function_called ? `  → ${turn.function_called}` : "");
      line.append(meta, said);
      transcript.append(line);
      transcript.scrollTop = transcript.scrollHeight;
      if (turn.latency_ms !== null) {
        const row = document.createElement("tr");
        row.dataset.testid = "live-latency-row";
        [turn.index, turn.latency_ms, turn.stt_ms, turn.llm_ms, turn.tts_ms].forEach((value) => {
          row.append(cell(value === null ? "—" : value));
        });
        latency.append(row);
      }
    }

    function setCallStatus(status, disposition, endReason) {
      $("live-call-status").textContent = status;
      ended = status === "ended";
      if (ended) {
        $("live-ending").textContent = `${disposition || "—"} (${endReason || "—"})`;
        root.dataset.state = "ended";
        setStatus("The call has ended.", false);
      }
      if (endButton) endButton.disabled = !(mayEnd && status === "in_progress");
    }

    function handle(event) {
      switch (event.type) {
        case "backlog":
          transcript.replaceChildren();
          latency.replaceChildren();
          event.turns.forEach(addTurn);
          mayEnd = event.may_end;
          $("live-node").textContent = event.call.node || "—";
          $("live-outcome").textContent = event.call.outcome || "—";
          root.dataset.state = "live";
          setStatus("Live.", false);
          setCallStatus(event.call.status, event.call.disposition, event.call.end_reason);
          break;
        case "turn":
          addTurn(event.turn);
          break;
        case "node":
          $("live-node").textContent = event.node;
          break;
        case "outcome":
          $("live-outcome").textContent = event.outcome;
          break;
        case "status":
          setCallStatus(event.status, event.disposition, event.end_reason);
          break;
        case "end_requested":
          setStatus("Asked the call to end; the bot finishes its sentence, then hangs up.", false);
          break;
        case "error":
          setStatus(event.message, true);
          if (endButton) endButton.disabled = !(mayEnd && !ended);
          break;
      }
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      socket = new WebSocket(scheme + "//" + location.host + root.dataset.socketPath);
      socket.onmessage = (message) => handle(JSON.parse(message.data));
      socket.onclose = (closed) => {
        if (CLOSE_REASONS[closed.code]) {
          root.dataset.state = "refused";
          setStatus(CLOSE_REASONS[closed.code], true);
          return;
        }
        if (ended) return;
        // A dropped connection: reconnect; the backlog redraws everything, so nothing is lost.
        root.dataset.state = "reconnecting";
        setStatus("Connection lost; reconnecting…", true);
        setTimeout(connect, 2000);
      };
    }

    if (endButton) {
      endButton.addEventListener("click", () => {
        if (!window.confirm("End this call now? The customer will be hung up on.")) return;
        endButton.disabled = true;
        socket.send(JSON.stringify({ action: "end_call" }));
      });
    }
    connect();
  }

  if ($("live-list")) startList($("live-list"));
  if ($("live-call")) startWatch($("live-call"));
})();
