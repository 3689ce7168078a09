// The desk (签到台): read learners' personal codes with the camera or take a typed number, and send each
// scan with an id made here. Scans wait in localStorage while the network is down and are sent when it
// comes back; the server records a scan id once, so a resend never makes a second row.
(function () {
  "use strict";
  const root = document.getElementById("desk");
  if (!root) return;
  const msg = (key) => root.dataset["msg" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
  const storeKey = "cme-desk-" + root.dataset.session;
  const list = document.getElementById("scans");
  const status = document.getElementById("desk-status");
  const pendingBadge = document.getElementById("pending-count");
  let queue = [];
  let sending = false;
  let retryTimer = null;

  try { queue = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (e) { queue = []; }
  // Keep every scan still to be sent, and the last hundred that were.
  const save = () => {
    const done = queue.filter((s) => s.state !== "pending");
    const drop = new Set(done.slice(0, Math.max(0, done.length - 100)));
    queue = queue.filter((s) => !drop.has(s));
    localStorage.setItem(storeKey, JSON.stringify(queue));
  };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = "alert py-2 small alert-" + (kind || "secondary");
  }

  function render() {
    list.textContent = "";
    queue.slice(-30).reverse().forEach((scan) => {
      const li = document.createElement("li");
      li.className = "list-group-item d-flex justify-content-between gap-2 desk-scan";
      li.dataset.state = scan.state;
      const left = document.createElement("span");
      const who = scan.name || (scan.text.startsWith("CME1.") ? "" : scan.text);
      left.textContent = `${msg(scan.direction)} · ${who || "…"}${scan.message ? " · " + scan.message : ""}`;
      const right = document.createElement("span");
      right.className = "badge " + ({ pending: "text-bg-warning", sent: "text-bg-success", refused: "text-bg-danger" }[scan.state]);
      right.textContent = msg(scan.state);
      li.append(left, right);
      list.append(li);
    });
    const pending = queue.filter((s) => s.state === "pending").length;
    pendingBadge.textContent = pending ? `${msg("pending")} ${pending}` : "";
    pendingBadge.classList.toggle("d-none", !pending);
  }

  function add(text) {
    const direction = document.querySelector('input[name="direction"]:checked').value;
    queue.push({ id: uuid(), direction, text: text.trim(), at: Date.now(), state: "pending", message: "", name: "" });
    save(); render(); flush();
  }

  async function flush() {
    if (sending) return;
    sending = true;
    try {
      // Scans added while one is on its way are taken in the same round.
      let scan;
      while ((scan = queue.find((s) => s.state === "pending"))) {
        let response;
        try {
          response = await fetch(root.dataset.scanUrl, {
            method: "POST",
            credentials: "same-origin",
            redirect: "manual",
            headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
            body: JSON.stringify({ scan_id: scan.id, direction: scan.direction, text: scan.text, scanned_at: scan.at }),
          });
        } catch (e) {
          say(msg("offline"), "warning");
          clearTimeout(retryTimer);
          retryTimer = setTimeout(flush, 3000);
          return;
        }
        if (response.type === "opaqueredirect" || response.status === 403) {
          say(msg("login"), "danger");
          return;
        }
        let body = {};
        try { body = await response.json(); } catch (e) { body = { ok: false, message: "" }; }
        if (response.status >= 500 || response.status === 429) {
          // The portal is busy or failing: try again later; after five tries leave it refused, so later scans go.
          scan.tries = (scan.tries || 0) + 1;
          if (scan.tries < 5) { save(); clearTimeout(retryTimer); retryTimer = setTimeout(flush, 5000); return; }
        }
        scan.state = body.ok ? "sent" : "refused";
        scan.message = body.message || "";
        scan.name = body.name || "";
        save(); render();
        say(`${msg(scan.direction)} · ${scan.name || scan.text} · ${scan.message}`, body.ok ? "success" : "danger");
      }
    } finally {
      sending = false;
    }
  }

  document.getElementById("typed").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("typed-text");
    if (input.value.trim()) add(input.value);
    input.value = "";
    input.focus();
  });
  window.addEventListener("online", () => { say(msg("online"), "secondary"); flush(); });

  // The camera: a frame every quarter second through zxing-wasm's reader, served from our own static files.
  const video = document.getElementById("camera");
  const canvas = document.getElementById("frame");
  let lastText = "", lastAt = 0, reading = false;
  if (window.ZXingWASM) {
    ZXingWASM.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? root.dataset.wasm : prefix + path) },
    });
  }

  async function readFrame() {
    if (reading || video.readyState < 2) return;
    reading = true;
    try {
      canvas.width = video.videoWidth; canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0);
      const results = await ZXingWASM.readBarcodes(context.getImageData(0, 0, canvas.width, canvas.height), {
        formats: ["QRCode"], maxNumberOfSymbols: 1, tryHarder: true,
      });
      const text = results.length ? results[0].text : "";
      if (text && (text !== lastText || Date.now() - lastAt > 5000)) {
        lastText = text; lastAt = Date.now();
        add(text);
      }
    } catch (e) {
      // A frame that cannot be read is the next frame's business.
    } finally {
      reading = false;
    }
  }

  let reader = null;
  document.getElementById("camera-start").addEventListener("click", async () => {
    if (reader) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      video.classList.remove("d-none");
      await video.play();
      reader = setInterval(readFrame, 250);
    } catch (e) {
      say(msg("camera"), "danger");
    }
  });

  render();
  flush();
})();
