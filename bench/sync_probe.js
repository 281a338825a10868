// Injected by bench/sync_accuracy.py into every page before the page's own scripts, so
// that any version of the room page can be measured without knowing about it.
// `window.__BENCH_CLOCK_OFFSET_MS` (set by a line the bench puts before this file) moves
// Date.now(); the probe itself reads the true time, which that does not move.
(function () {
  "use strict";
  if (window.top !== window) {
    return;
  }
  var offset = window.__BENCH_CLOCK_OFFSET_MS || 0;
  if (offset) {
    var realNow = Date.now.bind(Date);
    Date.now = function () {
      return realNow() + offset;
    };
  }

  function trueSeconds() {
    return (performance.timeOrigin + performance.now()) / 1000;
  }

  var probe = {samples: [], events: []};

  // [true time, currentTime, paused (0/1), playbackRate] or null before the page has a video.
  probe.read = function () {
    var video = document.querySelector("video");
    if (!video) {
      return null;
    }
    return [trueSeconds(), video.currentTime, video.paused ? 1 : 0, video.playbackRate];
  };

  // Hand over what was collected since the last call.
  probe.take = function () {
    var taken = {samples: probe.samples, events: probe.events};
    probe.samples = [];
    probe.events = [];
    return taken;
  };

  setInterval(function () {
    var reading = probe.read();
    if (reading) {
      probe.samples.push(reading);
    }
  }, 100);

  ["seeking", "ratechange", "waiting", "stalled", "playing", "canplay"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var video = event.target;
      if (video instanceof HTMLMediaElement) {
        probe.events.push([trueSeconds(), name, video.currentTime, video.playbackRate]);
      }
    }, true);
  });

  window.__syncProbe = probe;
})();
