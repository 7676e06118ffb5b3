/* Our own small tus 1.0 client (core protocol plus the creation and termination extensions).

   Why our own: the server must run with nothing from the internet, and the client needs only
   a few dozen lines of the protocol. What it does:
   1. Creation: POST the endpoint with Upload-Length and Upload-Metadata (base64 pairs); the
      answer's Location is the upload's URL. The URL is remembered in localStorage under a
      fingerprint (draft + name + size + lastModified), so choosing the same file again after a
      reload continues the same upload.
   2. Resume: with a remembered URL, HEAD it for Upload-Offset and send from there (a 404/410
      means the server forgot it: start over with a new upload).
   3. Chunks: PATCH slices of chunkSize bytes (application/offset+octet-stream, Upload-Offset)
      with XMLHttpRequest, for upload progress events that fetch() does not give.
   4. A failed request (network error, 5xx, 409 offset mismatch, 423) is retried after a pause
      from retryDelays, each retry asking HEAD where the server is; after the last delay the
      upload fails. Any other 4xx fails at once with the server's "detail".
   5. abort() stops sending; abort(true) also asks the server to delete the upload (DELETE).

     var upload = new KolibriTus.Upload(file, {
       endpoint: "/api/drafts/<id>/files/", fingerprintPrefix: "<draft id>",
       metadata: {filename: file.name, description: ""},
       headers: {"X-CSRFToken": token},
       onCreated: function (url, xhr) {}, onProgress: function (sent, total) {},
       onSuccess: function (url) {}, onError: function (error) {}
     });
     upload.start();
*/
(function (global) {
  "use strict";
  // Django's JavaScript catalog (/jsi18n/, loaded first by base.html) translates the messages
  // an author sees; without it the English words show.
  var gettext = global.gettext || function (text) { return text; };

  var TUS_VERSION = "1.0.0";
  var DEFAULT_CHUNK = 8 * 1024 * 1024;
  var DEFAULT_RETRY_DELAYS = [1000, 3000, 5000, 10000, 20000];
  var STORAGE_PREFIX = "kolibri-like.tus::";
  // A request that fails this way may work a moment later: retry from the server's offset.
  var RETRYABLE = { 0: true, 409: true, 423: true, 429: true, 500: true, 502: true, 503: true, 504: true };

  function base64Text(text) {
    // btoa takes Latin-1 only: encode UTF-8 first, so any file name goes through.
    var bytes = new TextEncoder().encode(String(text));
    var binary = "";
    for (var index = 0; index < bytes.length; index += 1) { binary += String.fromCharCode(bytes[index]); }
    return global.btoa(binary);
  }

  function encodeMetadata(metadata) {
    return Object.keys(metadata || {}).filter(function (key) {
      return metadata[key] !== undefined && metadata[key] !== null;
    }).map(function (key) {
      var value = String(metadata[key]);
      return value === "" ? key : key + " " + base64Text(value);
    }).join(",");
  }

  function fingerprint(prefix, file) {
    return STORAGE_PREFIX + [prefix || "", file.name, file.size, file.lastModified || 0].join("::");
  }

  function remember(key, value) {
    try {
      if (value === null) { global.localStorage.removeItem(key); } else { global.localStorage.setItem(key, JSON.stringify(value)); }
    } catch (ignored) { /* private mode or a full store: uploads still work, only without resume */ }
  }

  function recall(key) {
    try {
      var text = global.localStorage.getItem(key);
      return text ? JSON.parse(text) : null;
    } catch (ignored) {
      return null;
    }
  }

  function detailOf(xhr) {
    try {
      var data = JSON.parse(xhr.responseText);
      if (data && data.detail) { return String(data.detail); }
    } catch (ignored) { /* not JSON: use the status below */ }
    return xhr.status ? gettext("The server answered %(status)s.").replace("%(status)s", String(xhr.status))
      : gettext("The connection to the server was lost.");
  }

  function TusError(message, xhr) {
    this.name = "TusError";
    this.message = message;
    this.status = xhr ? xhr.status : 0;
    this.xhr = xhr || null;
  }
  TusError.prototype = Object.create(Error.prototype);

  function Upload(file, options) {
    this.file = file;
    this.options = options || {};
    this.chunkSize = this.options.chunkSize || DEFAULT_CHUNK;
    this.retryDelays = this.options.retryDelays || DEFAULT_RETRY_DELAYS;
    this.key = fingerprint(this.options.fingerprintPrefix, file);
    this.url = null;
    this.offset = 0;
    this.xhr = null;
    this.timer = null;
    this.aborted = false;
    this.finished = false;
    this.attempt = 0;
  }

  Upload.prototype.start = function () {
    this.aborted = false;
    var known = recall(this.key);
    if (known && known.url) {
      this.url = known.url;
      this._resume(true);
    } else {
      this._create();
    }
  };

  Upload.prototype.abort = function (terminate) {
    this.aborted = true;
    if (this.timer) { global.clearTimeout(this.timer); this.timer = null; }
    if (this.xhr) { this.xhr.abort(); this.xhr = null; }
    remember(this.key, null);
    if (terminate && this.url && !this.finished) {
      // Termination: the server deletes the partial bytes. Its answer changes nothing here.
      return this._request("DELETE", this.url, null, {}).then(function () {}, function () {});
    }
    return Promise.resolve();
  };

  Upload.prototype._headers = function (extra) {
    var headers = { "Tus-Resumable": TUS_VERSION };
    var common = this.options.headers || {};
    Object.keys(common).forEach(function (name) { headers[name] = common[name]; });
    Object.keys(extra || {}).forEach(function (name) { headers[name] = extra[name]; });
    return headers;
  };

  /* One request as a promise of the finished XMLHttpRequest (any status); rejects only when
     no answer came (status 0) or the upload was aborted. */
  Upload.prototype._request = function (method, url, body, headers, onUploadProgress) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      self.xhr = xhr;
      xhr.open(method, url, true);
      xhr.withCredentials = true;
      var all = self._headers(headers);
      Object.keys(all).forEach(function (name) { xhr.setRequestHeader(name, all[name]); });
      if (onUploadProgress && xhr.upload) {
        xhr.upload.onprogress = function (event) { onUploadProgress(event.loaded); };
      }
      xhr.onload = function () { if (self.xhr === xhr) { self.xhr = null; } resolve(xhr); };
      xhr.onerror = function () { if (self.xhr === xhr) { self.xhr = null; } reject(new TusError(gettext("The connection to the server was lost."), xhr)); };
      xhr.onabort = function () { reject(new TusError(gettext("Stopped."), null)); };
      xhr.send(body);
    });
  };

  Upload.prototype._create = function () {
    var self = this;
    var metadata = encodeMetadata(this.options.metadata);
    var headers = { "Upload-Length": String(this.file.size) };
    if (metadata) { headers["Upload-Metadata"] = metadata; }
    this._request("POST", this.options.endpoint, null, headers).then(function (xhr) {
      if (self.aborted) { return; }
      if (xhr.status !== 201 || !xhr.getResponseHeader("Location")) {
        return self._failed(new TusError(detailOf(xhr), xhr), RETRYABLE[xhr.status] ? function () { self._create(); } : null);
      }
      self.url = new URL(xhr.getResponseHeader("Location"), global.location.href).href;
      self.offset = 0;
      self.attempt = 0;
      remember(self.key, { url: self.url, created: Date.now() });
      if (self.options.onCreated) { self.options.onCreated(self.url, xhr); }
      self._send();
    }, function (error) {
      if (!self.aborted) { self._failed(error, function () { self._create(); }); }
    });
  };

  /* Ask the server where the upload is, then go on sending; `first` when resuming after a
     reload (the page learns the URL through onCreated as if it had just been made). */
  Upload.prototype._resume = function (first) {
    var self = this;
    this._request("HEAD", this.url, null, {}).then(function (xhr) {
      if (self.aborted) { return; }
      if (xhr.status === 404 || xhr.status === 410 || xhr.status === 403) {
        // The server no longer has it (cancelled, collected, or another account's): start over.
        remember(self.key, null);
        self.url = null;
        return self._create();
      }
      var offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      if (xhr.status < 200 || xhr.status >= 300 || isNaN(offset)) {
        return self._failed(new TusError(detailOf(xhr), xhr), RETRYABLE[xhr.status] ? function () { self._resume(first); } : null);
      }
      self.offset = offset;
      if (first && self.options.onCreated) { self.options.onCreated(self.url, xhr); }
      self._send();
    }, function (error) {
      if (!self.aborted) { self._failed(error, function () { self._resume(first); }); }
    });
  };

  Upload.prototype._send = function () {
    var self = this;
    this._progress(this.offset);
    if (this.offset >= this.file.size) {
      return this._done();
    }
    var end = Math.min(this.offset + this.chunkSize, this.file.size);
    var start = this.offset;
    var headers = { "Upload-Offset": String(start), "Content-Type": "application/offset+octet-stream" };
    this._request("PATCH", this.url, this.file.slice(start, end), headers, function (loaded) {
      self._progress(start + loaded);
    }).then(function (xhr) {
      if (self.aborted) { return; }
      var offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
      if (xhr.status === 404 || xhr.status === 410) {
        remember(self.key, null);
        return self._fail(new TusError(detailOf(xhr), xhr));
      }
      if (xhr.status < 200 || xhr.status >= 300 || isNaN(offset)) {
        return self._failed(new TusError(detailOf(xhr), xhr), RETRYABLE[xhr.status] ? function () { self._resume(false); } : null);
      }
      self.offset = offset;
      self.attempt = 0;
      self._send();
    }, function (error) {
      if (!self.aborted) { self._failed(error, function () { self._resume(false); }); }
    });
  };

  Upload.prototype._progress = function (sent) {
    if (this.options.onProgress) { this.options.onProgress(Math.min(sent, this.file.size), this.file.size); }
  };

  /* A failure: retry after the next delay (with `again`), or give up. */
  Upload.prototype._failed = function (error, again) {
    var self = this;
    if (!again || this.attempt >= this.retryDelays.length) {
      return this._fail(error);
    }
    var delay = this.retryDelays[this.attempt];
    this.attempt += 1;
    if (this.options.onRetry) { this.options.onRetry(error, delay, this.attempt); }
    this.timer = global.setTimeout(function () {
      self.timer = null;
      if (!self.aborted) { again(); }
    }, delay);
  };

  Upload.prototype._fail = function (error) {
    if (this.options.onError) { this.options.onError(error); }
  };

  Upload.prototype._done = function () {
    this.finished = true;
    remember(this.key, null);
    if (this.options.onSuccess) { this.options.onSuccess(this.url); }
  };

  global.KolibriTus = { Upload: Upload, encodeMetadata: encodeMetadata, fingerprint: fingerprint, TusError: TusError };
})(window);
