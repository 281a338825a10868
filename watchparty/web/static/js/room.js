// The room page (SPEC R92-R94): one Socket.IO connection to /room (R30), the
// player, who is here, the chat and, for the host, the room controls. Every
// piece of user text goes in with textContent, never as markup (R93).
(function () {
  "use strict";

  var root = document.getElementById("room");
  if (!root || typeof window.io !== "function" || !window.WatchPartyPlayer) {
    return;
  }
  var Player = window.WatchPartyPlayer;
  var room = JSON.parse(root.getAttribute("data-room"));
  var code = room.code;
  var userId = Number(root.getAttribute("data-user-id"));
  var isHost = root.getAttribute("data-is-host") === "true";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";

  var CLOSED_TEXT = {
    deleted: "This room was closed: the host deleted it.",
    expired: "This room was closed: it expired.",
  };
  var TOKEN_MARGIN_MS = 60000;
  var MAX_RETRY_MS = 30000;
  var MAX_CHAT_ENTRIES = 500;

  function byId(id) {
    return document.getElementById(id);
  }

  var el = {
    title: byId("room-title"),
    closed: byId("room-closed"),
    connection: byId("connection"),
    player: byId("player"),
    startWatching: byId("start-watching"),
    status: byId("playback-status"),
    note: byId("player-note"),
    mute: byId("mute"),
    fullscreen: byId("fullscreen"),
    hostState: byId("host-state"),
    countdown: byId("grace-countdown"),
    viewers: byId("viewers"),
    viewerCount: byId("viewer-count"),
    chatLog: byId("chat-log"),
    chatOff: byId("chat-off"),
    chatForm: byId("chat-form"),
    chatInput: byId("chat-input"),
    chatError: byId("chat-error"),
    roomLink: byId("room-link"),
    copyLink: byId("copy-link"),
    copyResult: byId("copy-result"),
    play: byId("play"),
    pause: byId("pause"),
    seekForm: byId("seek-form"),
    seekTo: byId("seek-to"),
    seekError: byId("seek-error"),
    chatToggle: byId("chat-toggle"),
    deleteRoom: byId("delete-room"),
    hostError: byId("host-error"),
  };

  var state = null; // the newest playback snapshot applied (see WatchPartyPlayer.snapshot)
  var closed = false;
  var viewers = []; // [{id, display_name, is_host}] in the order they arrived
  var seenMessages = {};
  var lastSentMessage = "";
  var graceTimer = null;
  var player = null;
  var socket = null;

  // small helpers -----------------------------------------------------------------

  function setText(node, text) {
    if (node) {
      node.textContent = text;
    }
  }

  function viewersLabel(count) {
    var n = Number(count) || 0;
    return n === 1 ? "1 viewer" : n + " viewers";
  }

  function clockTime(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }

  function api(method, path, body) {
    var headers = {Accept: "application/json", "X-CSRFToken": csrfToken};
    var options = {method: method, credentials: "same-origin", headers: headers};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      if (response.status === 204) {
        return {status: 204, body: null};
      }
      return response.json().then(
        function (json) {
          return {status: response.status, body: json};
        },
        function () {
          return {status: response.status, body: null};
        }
      );
    });
  }

  function errorMessage(result, fallback) {
    var error = result && result.body && result.body.error;
    return (error && typeof error.message === "string" && error.message) || fallback;
  }

  // playback -------------------------------------------------------------------------

  function showStatus() {
    if (!state) {
      return;
    }
    var at = Player.formatTime(Player.position(state));
    setText(el.status, state.is_playing ? "Playing from " + at : "Paused at " + at);
  }

  // A PLAYBACK_STATE: snapshots older than the newest applied are dropped (R39).
  function adoptState(payload) {
    var next = Player.snapshot(payload);
    if (!next || (state && next.version < state.version)) {
      return false;
    }
    state = next;
    return true;
  }

  function onPlaybackState(payload) {
    if (closed || !adoptState(payload)) {
      return;
    }
    showStatus();
    if (player) {
      player.apply();
    }
  }

  function onSyncCorrection(payload) {
    var before = state;
    if (closed || !adoptState(payload)) {
      return;
    }
    if (!before || before.version !== state.version || before.is_playing !== state.is_playing) {
      showStatus();
      player.apply();
      return;
    }
    player.correct();
  }

  function embedUrl(progress, autoPlay) {
    var media = room.media || {};
    var query = new URLSearchParams();
    ["type", "id", "season", "episode"].forEach(function (key) {
      if (media[key] !== undefined && media[key] !== null) {
        query.set(key, String(media[key]));
      }
    });
    if (autoPlay) {
      query.set("autoPlay", "true");
    }
    query.set("progress", String(Math.max(0, Math.floor(progress))));
    var path = "/api/providers/" + encodeURIComponent(String(media.provider)) + "/embed/?" + query.toString();
    return fetch(path, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.ok ? response.json() : Promise.reject(new Error("embed " + response.status));
      })
      .then(function (body) {
        return body && body.url;
      });
  }

  function showStartButton(blocked) {
    el.startWatching.hidden = !blocked || closed;
  }

  function buildPlayer() {
    if (player) {
      player.destroy();
    }
    player = Player.create(el.player, room, {
      isHost: isHost,
      state: function () {
        return state;
      },
      emit: function (event, payload) {
        if (socket && socket.connected && !closed) {
          socket.emit(event, payload);
        }
      },
      blocked: showStartButton,
      note: function (text) {
        setText(el.note, text);
      },
      embedUrl: embedUrl,
    });
    // The host's <video> has native controls, and the vidking player has its own buttons.
    var bare = player.kind === "direct" && !isHost;
    el.mute.hidden = !bare;
    el.fullscreen.hidden = !bare;
    el.mute.parentElement.hidden = !bare;
    setText(el.mute, "Mute");
    setText(el.note, "");
    showStartButton(false);
    player.apply();
  }

  el.startWatching.addEventListener("click", function () {
    player.start();
  });

  el.mute.addEventListener("click", function () {
    var video = player && player.kind === "direct" ? player.element : null;
    if (video) {
      video.muted = !video.muted;
      setText(el.mute, video.muted ? "Unmute" : "Mute");
    }
  });

  el.fullscreen.addEventListener("click", function () {
    var target = player && player.element;
    if (target && target.requestFullscreen) {
      target.requestFullscreen().catch(function () {});
    }
  });

  // who is here --------------------------------------------------------------------------

  function renderViewers() {
    var items = viewers
      .slice()
      .sort(function (a, b) {
        return (b.is_host ? 1 : 0) - (a.is_host ? 1 : 0);
      })
      .map(function (user) {
        var item = document.createElement("li");
        item.textContent = user.display_name;
        if (user.is_host) {
          var mark = document.createElement("span");
          mark.className = "host-mark";
          mark.textContent = " (host)";
          item.append(mark);
        }
        return item;
      });
    el.viewers.replaceChildren.apply(el.viewers, items);
  }

  function viewerFrom(user, isHostFlag) {
    if (!user || typeof user !== "object" || typeof user.display_name !== "string") {
      return null;
    }
    var id = Number(user.id);
    return {id: id, display_name: user.display_name, is_host: Boolean(isHostFlag) || id === room.host.id};
  }

  function setViewerCount(count) {
    if (typeof count === "number") {
      setText(el.viewerCount, viewersLabel(count));
    }
  }

  function onPresence(payload) {
    if (!payload || !Array.isArray(payload.users)) {
      return;
    }
    viewers = payload.users
      .map(function (user) {
        return viewerFrom(user, user && user.is_host);
      })
      .filter(Boolean);
    renderViewers();
    setViewerCount(payload.viewer_count);
    if (payload.host_connected) {
      hostHere(isHost ? "You are the host." : "The host is here.");
    } else {
      hostAway("The host is not here right now.", null);
    }
  }

  function onUserJoined(payload) {
    var user = viewerFrom(payload && payload.user, false);
    if (!user) {
      return;
    }
    if (!viewers.some(function (v) {
      return v.id === user.id;
    })) {
      viewers.push(user);
      renderViewers();
    }
    setViewerCount(payload.viewer_count);
    if (user.is_host && !graceTimer) {
      hostHere("The host is here.");
    }
  }

  function onUserLeft(payload) {
    var user = viewerFrom(payload && payload.user, false);
    if (!user) {
      return;
    }
    viewers = viewers.filter(function (v) {
      return v.id !== user.id;
    });
    renderViewers();
    setViewerCount(payload.viewer_count);
  }

  // the host's state -------------------------------------------------------------------------

  function stopCountdown() {
    clearInterval(graceTimer);
    graceTimer = null;
    el.countdown.hidden = true;
    setText(el.countdown, "");
  }

  function hostHere(text) {
    stopCountdown();
    setText(el.hostState, text);
  }

  function hostAway(text, expiresAt) {
    setText(el.hostState, text);
    stopCountdown();
    if (expiresAt === null) {
      return;
    }
    function tick() {
      var left = Math.max(0, (expiresAt - Date.now()) / 1000);
      setText(
        el.countdown,
        left > 0
          ? "The room closes in " + Player.formatTime(Math.ceil(left)) + " unless the host comes back."
          : "The host did not come back in time: the room is closing."
      );
    }
    el.countdown.hidden = false;
    tick();
    graceTimer = setInterval(tick, 1000);
  }

  function onHostDisconnected(payload) {
    var expiresAt = Date.parse(payload && payload.grace_expires_at);
    if (isNaN(expiresAt) && payload && typeof payload.grace_seconds === "number") {
      expiresAt = Date.now() + payload.grace_seconds * 1000;
    }
    hostAway("The host is disconnected.", isNaN(expiresAt) ? null : expiresAt);
  }

  function onHostReconnected() {
    hostHere(isHost ? "You are the host." : "The host reconnected.");
  }

  // chat -----------------------------------------------------------------------------------

  function chatEntry(message) {
    var entry = document.createElement("p");
    entry.className = "chat-message";
    var author = document.createElement("strong");
    author.className = "chat-author";
    author.textContent = message.user.display_name;
    var text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = message.message;
    var time = document.createElement("time");
    time.className = "chat-time";
    time.dateTime = String(message.created_at || "");
    time.textContent = clockTime(message.created_at);
    entry.append(author, ": ", text, " ", time);
    return entry;
  }

  function validMessage(message) {
    return message && typeof message.message === "string" && message.user &&
      typeof message.user.display_name === "string";
  }

  function appendMessages(messages) {
    var log = el.chatLog;
    var nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    messages.forEach(function (message) {
      if (!validMessage(message) || seenMessages[message.id]) {
        return;
      }
      seenMessages[message.id] = true;
      log.append(chatEntry(message));
    });
    while (log.childElementCount > MAX_CHAT_ENTRIES) {
      log.firstElementChild.remove();
    }
    if (nearBottom) {
      log.scrollTop = log.scrollHeight;
    }
  }

  function onChatHistory(payload) {
    if (!payload || !Array.isArray(payload.messages)) {
      return;
    }
    seenMessages = {};
    el.chatLog.replaceChildren();
    appendMessages(payload.messages);
  }

  function onChat(message) {
    appendMessages([message]);
    if (validMessage(message) && message.user.id === userId) {
      setText(el.chatError, "");
    }
  }

  function onError(payload) {
    if (!payload || typeof payload.message !== "string") {
      return;
    }
    setText(el.chatError, payload.message + ".");
    if (!el.chatInput.value && lastSentMessage) {
      el.chatInput.value = lastSentMessage; // a refused message is not lost
    }
  }

  el.chatForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el.chatInput.value.trim();
    if (!text || closed) {
      return;
    }
    setText(el.chatError, "");
    lastSentMessage = text;
    socket.emit("CHAT", {message: text});
    el.chatInput.value = "";
  });

  el.chatInput.addEventListener("input", function () {
    setText(el.chatError, "");
  });

  function showChatEnabled(enabled) {
    if (enabled && !el.chatOff.hidden) {
      setText(el.chatError, ""); // a "chat is disabled" refusal no longer holds
    }
    el.chatOff.hidden = enabled;
    if (el.chatToggle) {
      setText(el.chatToggle, enabled ? "Disable chat" : "Enable chat");
    }
  }

  // the room itself ---------------------------------------------------------------------------

  function onRoomUpdated(payload) {
    var next = payload && payload.room;
    if (!next || next.code !== code) {
      return;
    }
    var playerChanged = next.embed_url !== room.embed_url;
    room = next;
    var title = room.title || "Untitled room";
    setText(el.title, title);
    document.title = title + " · Watch Party";
    showChatEnabled(Boolean(room.is_chat_enabled));
    if (playerChanged && !closed) {
      buildPlayer();
    }
  }

  function disableAll() {
    root.querySelectorAll("button, input").forEach(function (control) {
      if (control !== el.roomLink && control !== el.copyLink) {
        control.disabled = true;
      }
    });
  }

  function closeRoom(text) {
    if (closed) {
      return;
    }
    closed = true;
    el.closed.hidden = false;
    setText(el.closed, text);
    setText(el.connection, "");
    setText(el.hostState, "");
    stopCountdown();
    showStartButton(false);
    if (player) {
      player.stop();
    }
    disableAll();
    if (socket) {
      socket.io.reconnection(false);
      socket.disconnect();
    }
  }

  function onRoomClosed(payload) {
    var reason = payload && payload.reason;
    closeRoom(CLOSED_TEXT[reason] || "This room was closed.");
  }

  // copy link -------------------------------------------------------------------------------------

  el.roomLink.value = window.location.origin + "/rooms/" + encodeURIComponent(code);

  el.copyLink.addEventListener("click", function () {
    var link = el.roomLink.value;
    function copied() {
      setText(el.copyResult, "Link copied.");
    }
    function fallback() {
      el.roomLink.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (error) {
        ok = false;
      }
      setText(el.copyResult, ok ? "Link copied." : "Select the link and copy it.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link).then(copied, fallback);
    } else {
      fallback();
    }
  });

  // host controls ---------------------------------------------------------------------------------

  function hostCommand(event, payload) {
    if (!closed) {
      socket.emit(event, payload);
    }
  }

  if (isHost) {
    el.play.addEventListener("click", function () {
      hostCommand("PLAY", {});
    });
    el.pause.addEventListener("click", function () {
      hostCommand("PAUSE", {});
    });
    el.seekForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var raw = el.seekTo.value.trim();
      var seconds = Number(raw);
      if (raw === "" || !isFinite(seconds) || seconds < 0) {
        el.seekTo.setAttribute("aria-invalid", "true");
        setText(el.seekError, "Enter a number of seconds, 0 or more.");
        return;
      }
      el.seekTo.removeAttribute("aria-invalid");
      setText(el.seekError, "");
      hostCommand("SEEK", {time: seconds});
    });
    el.chatToggle.addEventListener("click", function () {
      var enable = !room.is_chat_enabled;
      setText(el.hostError, "");
      api("PATCH", "/api/rooms/" + encodeURIComponent(code) + "/", {is_chat_enabled: enable}).then(
        function (result) {
          if (result.status === 200 && result.body && result.body.room) {
            onRoomUpdated(result.body);
          } else if (result.status === 410) {
            closeRoom("This room was closed.");
          } else {
            setText(el.hostError, errorMessage(result, "The chat setting could not be changed."));
          }
        },
        function () {
          setText(el.hostError, "The chat setting could not be changed: the server did not answer.");
        }
      );
    });
    el.deleteRoom.addEventListener("click", function () {
      setText(el.hostError, "");
      api("DELETE", "/api/rooms/" + encodeURIComponent(code) + "/").then(
        function (result) {
          if (result.status === 204) {
            closeRoom(CLOSED_TEXT.deleted);
          } else if (result.status === 410) {
            closeRoom("This room was closed.");
          } else {
            setText(el.hostError, errorMessage(result, "The room could not be deleted."));
          }
        },
        function () {
          setText(el.hostError, "The room could not be deleted: the server did not answer.");
        }
      );
    });
  }

  // the connection (R30, R31) -------------------------------------------------------------------

  var token = null; // {value, expiresAt}
  var retryDelay = 1000;
  var retryTimer = null;

  function LoggedOut() {}

  function freshToken() {
    if (token && Date.now() < token.expiresAt - TOKEN_MARGIN_MS) {
      return Promise.resolve(token.value);
    }
    return fetch("/api/auth/token/", {
      method: "POST",
      credentials: "same-origin",
      headers: {Accept: "application/json", "X-CSRFToken": csrfToken},
    })
      .then(function (response) {
        if (response.status === 401) {
          throw new LoggedOut();
        }
        return response.ok ? response.json() : Promise.reject(new Error("token " + response.status));
      })
      .then(function (body) {
        var lifetime = Number(body.expires_in) > 0 ? Number(body.expires_in) * 1000 : 3600000;
        token = {value: String(body.access_token), expiresAt: Date.now() + lifetime};
        return token.value;
      });
  }

  function loggedOut() {
    closed = true;
    setText(el.connection, "");
    el.closed.hidden = false;
    setText(el.closed, "You are logged out. Log in again to come back to this room.");
    var link = document.createElement("a");
    link.href = "/login?next=" + encodeURIComponent("/rooms/" + code);
    link.textContent = "Log in";
    el.closed.append(" ", link);
    disableAll();
    if (player) {
      player.stop();
    }
    if (socket) {
      socket.io.reconnection(false);
      socket.disconnect();
    }
  }

  // A refusal the client can recover from: connect again later, with a fresh token.
  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () {
      if (!closed && !socket.connected) {
        socket.connect();
      }
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  function connect() {
    socket = window.io("/room", {
      // Called for every connection attempt, so a reconnect presents a valid token.
      auth: function (send) {
        freshToken().then(
          function (value) {
            send({token: value, room: code});
          },
          function (error) {
            if (error instanceof LoggedOut) {
              loggedOut();
            }
            send({token: "", room: code});
          }
        );
      },
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });

    socket.on("connect", function () {
      retryDelay = 1000;
      setText(el.connection, "Connected.");
      el.connection.classList.remove("warning");
    });

    socket.on("connect_error", function (error) {
      if (closed) {
        return;
      }
      var refusal = error && error.data && error.data.code;
      el.connection.classList.add("warning");
      if (!refusal) {
        setText(el.connection, "Cannot reach the server. Trying again…");
        return; // the manager reconnects by itself
      }
      if (refusal === "unauthorized") {
        token = null;
        setText(el.connection, "Connecting again…");
        retryLater();
      } else if (refusal === "room_closed") {
        closeRoom("This room was closed.");
      } else if (refusal === "room_not_found") {
        closeRoom("This room no longer exists.");
      } else if (refusal === "not_a_participant") {
        setText(el.connection, "You are not in this room yet. Reload the page to join it.");
      } else {
        setText(el.connection, "The server is busy. Trying again…");
        retryLater();
      }
    });

    socket.on("disconnect", function (reason) {
      if (closed) {
        return;
      }
      el.connection.classList.add("warning");
      setText(el.connection, "Connection lost. Reconnecting…");
      if (reason === "io server disconnect") {
        retryLater(); // the server let us go without closing the room: come back
      }
    });

    socket.on("PLAYBACK_STATE", onPlaybackState);
    socket.on("SYNC_CORRECTION", onSyncCorrection);
    socket.on("PRESENCE", onPresence);
    socket.on("CHAT_HISTORY", onChatHistory);
    socket.on("USER_JOINED", onUserJoined);
    socket.on("USER_LEFT", onUserLeft);
    socket.on("CHAT", onChat);
    socket.on("ERROR", onError);
    socket.on("HOST_DISCONNECTED", onHostDisconnected);
    socket.on("HOST_RECONNECTED", onHostReconnected);
    socket.on("ROOM_UPDATED", onRoomUpdated);
    socket.on("ROOM_CLOSED", onRoomClosed);
  }

  // start ------------------------------------------------------------------------------------------

  adoptState({
    is_playing: Boolean(room.playback && room.playback.is_playing),
    time: room.playback ? Number(room.playback.time) || 0 : 0,
    version: room.playback ? Number(room.playback.version) || 0 : 0,
  });
  showStatus();
  showChatEnabled(Boolean(room.is_chat_enabled));
  buildPlayer();
  connect();
})();
