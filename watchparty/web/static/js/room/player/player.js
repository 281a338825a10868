// The players of the room page (SPEC R74, R92): one interface, one adapter per
// provider. A player follows the room's playback state, which only the host's
// commands change on the server; it never decides playback on its own.
//
//   var player = WatchPartyPlayer.create(container, room, hooks);
//   player.apply();    // the playback state changed: follow it
//   player.correct();  // a SYNC_CORRECTION was adopted as the state: close the gap
//   player.start();    // "Click to start watching" was pressed (a user gesture)
//   player.destroy();
//
// hooks: isHost (bool), state() -> the current snapshot or null, emit(event, payload),
// blocked(bool) -> show or hide the start button, note(text) -> a line under the player,
// embedUrl(progressSeconds, autoPlay) -> Promise of a provider URL (asked from the server: R73).
(function () {
  "use strict";

  var SEEK_TOLERANCE = 1.0; // seconds a playing player may be off before it seeks
  var PAUSED_TOLERANCE = 0.2; // a paused player shows the exact frame
  var HOST_SEEK_MARGIN = 1.5; // a host's own seek must differ by more than this to be a command
  var LARGE_DRIFT = 3.0; // from here a correction seeks; below it the playback rate is nudged
  var NUDGE_RATE = 0.1;
  var MAX_NUDGE_SECONDS = 10;
  var SYNC_CHECK_MS = 3000;
  var TIMEUPDATE_MS = 5000;
  var RELOAD_TOLERANCE = 5.0; // an iframe can only be reloaded: do it for real jumps only
  var RELOAD_COOLDOWN = 10.0;
  var CLOCK_SKEW_LIMIT = 2.0;
  var VIDKING_ORIGIN = "https://www.vidking.net";
  var PLAYER_EVENTS = ["timeupdate", "play", "pause", "seeked", "ended"];

  function isNumber(value) {
    return typeof value === "number" && isFinite(value);
  }

  function monotonic() {
    return performance.now() / 1000;
  }

  // A PLAYBACK_STATE or SYNC_CORRECTION payload as a local snapshot, or null if malformed.
  // `anchor` is when, on the local monotonic clock, the position was `time`: the server's
  // `server_time` read on the local clock (one machine, or synchronised clocks), or the moment
  // the payload arrived when the two clocks disagree by more than a couple of seconds.
  function snapshot(payload) {
    if (!payload || typeof payload !== "object") {
      return null;
    }
    if (typeof payload.is_playing !== "boolean" || !isNumber(payload.time) || payload.time < 0 ||
        !isNumber(payload.version)) {
      return null;
    }
    var age = isNumber(payload.server_time) ? Date.now() / 1000 - payload.server_time : 0;
    if (!(Math.abs(age) <= CLOCK_SKEW_LIMIT)) {
      age = 0;
    }
    return {
      is_playing: payload.is_playing,
      time: payload.time,
      version: payload.version,
      anchor: monotonic() - Math.max(0, age),
    };
  }

  // The authoritative position now.
  function position(state) {
    return state.is_playing ? state.time + Math.max(0, monotonic() - state.anchor) : state.time;
  }

  // 65 -> "1:05", 3725 -> "1:02:05".
  function formatTime(seconds) {
    var total = Math.max(0, Math.floor(isNumber(seconds) ? seconds : 0));
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = String(total % 60).padStart(2, "0");
    return hours > 0 ? hours + ":" + String(minutes).padStart(2, "0") + ":" + secs : minutes + ":" + secs;
  }

  function playerEvent(event, currentTime, duration) {
    return {
      event: event,
      currentTime: Math.max(0, currentTime),
      duration: isNumber(duration) && duration > 0 ? duration : null,
    };
  }

  // direct: our own <video> (R74), so play, pause, seek and drift correction act on it.
  function DirectPlayer(container, url, hooks) {
    var video = document.createElement("video");
    video.id = "video";
    video.className = "video";
    video.preload = "auto";
    video.playsInline = true;
    // Viewers follow the host: no native controls to drive playback with (mute and
    // full screen are buttons of the page). The host's native controls send commands.
    video.controls = hooks.isHost;
    video.setAttribute("aria-label", "Video");
    video.src = url;
    container.replaceChildren(video);

    var destroyed = false;
    var nudgeTimer = null;
    var lastTimeupdate = 0;

    function target(state) {
      var at = position(state);
      return isNumber(video.duration) ? Math.min(at, video.duration) : at;
    }

    function atEnd(at) {
      return isNumber(video.duration) && at >= video.duration - 0.25;
    }

    function seek(at) {
      try {
        video.currentTime = at;
      } catch (error) {
        // Not seekable yet; loadedmetadata applies the state again.
      }
    }

    function play() {
      var attempt;
      try {
        attempt = video.play();
      } catch (error) {
        return;
      }
      if (attempt && typeof attempt.then === "function") {
        attempt.then(
          function () {
            hooks.blocked(false);
          },
          function (error) {
            // Autoplay refused: the viewer must press a button (a user gesture).
            if (error && error.name === "NotAllowedError" && !destroyed) {
              hooks.blocked(true);
            }
          }
        );
      }
    }

    function stopNudge() {
      clearTimeout(nudgeTimer);
      nudgeTimer = null;
      video.playbackRate = 1;
    }

    function apply() {
      var state = hooks.state();
      if (!state || destroyed || video.readyState < 1) {
        return; // before metadata: loadedmetadata calls apply again
      }
      var at = target(state);
      if (state.is_playing && !atEnd(at)) {
        if (Math.abs(video.currentTime - at) > SEEK_TOLERANCE) {
          seek(at);
        }
        if (video.paused) {
          play();
        }
        return;
      }
      hooks.blocked(false);
      stopNudge();
      if (!video.paused) {
        video.pause();
      }
      if (Math.abs(video.currentTime - at) > PAUSED_TOLERANCE) {
        seek(at);
      }
    }

    function correct() {
      var state = hooks.state();
      if (!state || destroyed || video.readyState < 1) {
        return;
      }
      if (!state.is_playing || video.paused) {
        apply();
        return;
      }
      var at = target(state);
      var drift = video.currentTime - at;
      if (Math.abs(drift) >= LARGE_DRIFT) {
        stopNudge();
        seek(at);
        return;
      }
      // Small drift: play a little faster or slower until the gap is gone.
      clearTimeout(nudgeTimer);
      video.playbackRate = drift > 0 ? 1 - NUDGE_RATE : 1 + NUDGE_RATE;
      nudgeTimer = setTimeout(stopNudge, Math.min(Math.abs(drift) / NUDGE_RATE, MAX_NUDGE_SECONDS) * 1000);
    }

    function start() {
      var state = hooks.state();
      hooks.blocked(false);
      if (state && state.is_playing) {
        seek(target(state));
        play();
      }
    }

    // The player no longer shows what the room's state says: the user acted on it.
    function differsFromState(kind) {
      var state = hooks.state();
      if (!state) {
        return false;
      }
      if (kind === "play") {
        return !state.is_playing;
      }
      if (kind === "pause") {
        return state.is_playing;
      }
      return Math.abs(video.currentTime - target(state)) > HOST_SEEK_MARGIN;
    }

    function report(event) {
      if (hooks.isHost) {
        hooks.emit("PLAYER_EVENT", playerEvent(event, video.currentTime, video.duration));
      }
    }

    // What the state changes are, for the host's native controls; viewers are put back in line.
    function onUserAction(kind, command) {
      if (!differsFromState(kind)) {
        return;
      }
      if (hooks.isHost) {
        hooks.emit(command, {time: Math.max(0, video.currentTime)});
      } else {
        setTimeout(apply, 0);
      }
    }

    video.addEventListener("loadedmetadata", apply);
    video.addEventListener("play", function () {
      report("play");
      onUserAction("play", "PLAY");
    });
    video.addEventListener("pause", function () {
      report("pause");
      onUserAction("pause", "PAUSE");
    });
    video.addEventListener("seeked", function () {
      report("seeked");
      onUserAction("seek", "SEEK");
    });
    video.addEventListener("ended", function () {
      report("ended");
    });
    video.addEventListener("timeupdate", function () {
      var now = Date.now();
      if (now - lastTimeupdate >= TIMEUPDATE_MS && !video.paused) {
        lastTimeupdate = now;
        report("timeupdate");
      }
    });
    video.addEventListener("error", function () {
      hooks.note("The video could not be loaded.");
    });

    // While playing, ask the server now and then whether this player drifted (R60).
    var syncTimer = setInterval(function () {
      var state = hooks.state();
      if (state && state.is_playing && !video.paused && !video.seeking && video.readyState >= 2) {
        hooks.emit("SYNC_CHECK", {time: video.currentTime});
      }
    }, SYNC_CHECK_MS);

    function destroy() {
      destroyed = true;
      clearInterval(syncTimer);
      clearTimeout(nudgeTimer);
      video.pause();
      video.removeAttribute("src");
      video.load();
      container.replaceChildren();
    }

    function stop() {
      destroyed = true;
      clearInterval(syncTimer);
      clearTimeout(nudgeTimer);
      video.pause();
      video.controls = false;
    }

    return {kind: "direct", element: video, apply: apply, correct: correct, start: start, stop: stop,
            destroy: destroy};
  }

  // vidking: a cross-origin iframe we cannot drive; it is reloaded at a position (R72, R74).
  function VidkingPlayer(container, url, hooks) {
    var iframe = document.createElement("iframe");
    iframe.id = "vidking-player";
    iframe.className = "video";
    iframe.title = "Video player";
    iframe.allow = "autoplay; fullscreen";
    iframe.setAttribute("allowfullscreen", "");
    iframe.src = url;
    container.replaceChildren(iframe);

    var destroyed = false;
    // Where the iframe's player is believed to be: from its load, then from its own reports.
    var known = {position: 0, at: monotonic(), playing: false};
    var lastReload = -Infinity;
    var reloads = 0;
    var lastTimeupdate = 0;

    function expected(state) {
      var moving = known.playing && state.is_playing;
      return known.position + (moving ? monotonic() - known.at : 0);
    }

    function reload(at, playing) {
      var ticket = ++reloads;
      lastReload = monotonic();
      hooks.embedUrl(Math.floor(at), playing).then(function (next) {
        if (destroyed || ticket !== reloads || typeof next !== "string" ||
            next.indexOf(VIDKING_ORIGIN + "/") !== 0) {
          return;
        }
        iframe.src = next;
        known = {position: Math.floor(at), at: monotonic(), playing: playing};
      }, function () {
        // Keep the current iframe; the next state change tries again.
      });
    }

    function follow(force) {
      var state = hooks.state();
      if (!state || destroyed) {
        return;
      }
      hooks.note(state.is_playing || hooks.isHost ? "" : "The host paused.");
      var at = position(state);
      var cooled = monotonic() - lastReload > RELOAD_COOLDOWN;
      if (Math.abs(at - expected(state)) > RELOAD_TOLERANCE && (force || cooled)) {
        reload(at, state.is_playing);
      }
    }

    function apply() {
      follow(true);
    }

    function correct() {
      follow(false);
    }

    // The iframe's postMessage reports; anything malformed is ignored.
    function readReport(data) {
      if (typeof data === "string") {
        try {
          data = JSON.parse(data);
        } catch (error) {
          return null;
        }
      }
      if (!data || typeof data !== "object") {
        return null;
      }
      var body = data.data && typeof data.data === "object" ? data.data : data;
      if (PLAYER_EVENTS.indexOf(body.event) === -1 || !isNumber(body.currentTime) || body.currentTime < 0) {
        return null;
      }
      return playerEvent(body.event, body.currentTime, body.duration);
    }

    function onMessage(message) {
      if (destroyed || message.origin !== VIDKING_ORIGIN || message.source !== iframe.contentWindow) {
        return;
      }
      var report = readReport(message.data);
      if (!report) {
        return;
      }
      known = {
        position: report.currentTime,
        at: monotonic(),
        playing: report.event !== "pause" && report.event !== "ended",
      };
      if (!hooks.isHost) {
        return;
      }
      if (report.event === "timeupdate") {
        var now = Date.now();
        if (now - lastTimeupdate < TIMEUPDATE_MS) {
          return;
        }
        lastTimeupdate = now;
      }
      hooks.emit("PLAYER_EVENT", report);
    }

    window.addEventListener("message", onMessage);

    // With reports from the iframe, ask the server whether it drifted, as the <video> does.
    var syncTimer = setInterval(function () {
      var state = hooks.state();
      if (state && state.is_playing && known.playing && monotonic() - known.at < SYNC_CHECK_MS / 1000 * 2) {
        hooks.emit("SYNC_CHECK", {time: expected(state)});
      }
    }, SYNC_CHECK_MS);

    function stop() {
      destroyed = true;
      clearInterval(syncTimer);
      window.removeEventListener("message", onMessage);
    }

    function destroy() {
      stop();
      container.replaceChildren();
    }

    return {kind: "vidking", element: iframe, apply: apply, correct: correct, start: function () {},
            stop: stop, destroy: destroy};
  }

  // No video yet: the controls still work and the playback state still syncs.
  function NoPlayer(container, text) {
    var note = document.createElement("p");
    note.className = "no-video";
    note.textContent = text;
    container.replaceChildren(note);
    function nothing() {}
    return {kind: "none", element: note, apply: nothing, correct: nothing, start: nothing, stop: nothing,
            destroy: function () {
              container.replaceChildren();
            }};
  }

  function create(container, room, hooks) {
    var media = room && room.media;
    var url = room && room.embed_url;
    if (!media) {
      return NoPlayer(container, "No video chosen yet.");
    }
    if (typeof url === "string" && media.provider === "direct" && /^https?:\/\//i.test(url)) {
      return DirectPlayer(container, url, hooks);
    }
    if (typeof url === "string" && media.provider === "vidking" && url.indexOf(VIDKING_ORIGIN + "/") === 0) {
      return VidkingPlayer(container, url, hooks);
    }
    return NoPlayer(container, "This video cannot be played here.");
  }

  window.WatchPartyPlayer = {create: create, snapshot: snapshot, position: position, formatTime: formatTime};
})();
