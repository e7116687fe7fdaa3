/* The 随手拍 form (/report): the proof of work of its challenge (handlers/public/challenge.py),
   the phone's location when the person allows it, and the number of photos chosen. No inline
   script (CSP script-src 'self'): this file finds its elements by id. */
(function () {
  "use strict";
  var form = document.getElementById("report");
  if (!form) return;
  var challenge = form.elements.challenge.value;
  var bits = parseInt(challenge.split(".")[2], 10) || 0;
  var status = document.getElementById("work-status");
  var solved = false, waiting = false;

  // A nonce such that SHA-256(challenge + ":" + nonce) begins with `bits` zero bits, found in
  // slices so the page stays responsive.
  function zeroBits(words) {
    var left = bits, i = 0;
    while (left >= 32) { if (words[i++] !== 0) return false; left -= 32; }
    return left === 0 || (words[i] >>> (32 - left)) === 0;
  }
  var nonce = 0, prefix = challenge + ":";
  function work() {
    var end = nonce + 4000;
    for (; nonce < end; nonce++) {
      if (zeroBits(window.qingliuSha256Words(prefix + nonce))) {
        form.elements.nonce.value = String(nonce);
        solved = true;
        status.textContent = "安全校验已完成。";
        if (waiting) form.submit();
        return;
      }
    }
    setTimeout(work, 0);
  }
  status.textContent = "正在进行安全校验……";
  setTimeout(work, 0);

  form.addEventListener("submit", function (event) {
    if (solved) return;
    event.preventDefault();
    waiting = true;
    document.getElementById("submit").disabled = true;
    status.textContent = "正在进行安全校验，完成后自动提交……";
  });

  // The photos chosen.
  var photos = document.getElementById("photos"), count = document.getElementById("photos-count");
  photos.addEventListener("change", function () {
    var n = photos.files.length;
    count.textContent = n === 0 ? "未选择照片" : "已选择 " + n + " 张" + (n > 6 ? "（最多 6 张）" : "");
  });

  // The location, from the phone when the person allows it (browsers offer it only to pages
  // served over HTTPS or from localhost).
  var locate = document.getElementById("locate"), said = document.getElementById("locate-status");
  if (!navigator.geolocation || !window.isSecureContext) {
    said.textContent = "请填写经纬度，或从排污口的二维码页面进入本表单。";
    return;
  }
  locate.hidden = false;
  function fill(position) {
    form.elements.longitude.value = position.coords.longitude.toFixed(6);
    form.elements.latitude.value = position.coords.latitude.toFixed(6);
    said.textContent = "已填入当前位置（精度约 " + Math.round(position.coords.accuracy) + " 米）。";
  }
  function failed() { said.textContent = "未能获取位置，请手工填写经纬度。"; }
  locate.addEventListener("click", function () {
    said.textContent = "正在获取位置……";
    navigator.geolocation.getCurrentPosition(fill, failed, { enableHighAccuracy: true, timeout: 15000 });
  });
  if (!form.elements.longitude.value && !form.elements.latitude.value) {
    navigator.geolocation.getCurrentPosition(fill, function () {}, { timeout: 15000 });
  }
})();
