"""stub_batch: the Gemini and OpenAI Batch APIs for bg-stub.py
(doc/providers.md 1.10 and 2.5), with their Files APIs.

Gemini: the Files API resumable upload (POST /upload/v1beta/files with
X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start, answered
with X-Goog-Upload-URL; then "upload" / "upload, finalize" at that URL with
X-Goog-Upload-Offset), GET /v1beta/files/{id},
POST /v1beta/models/{model}:batchGenerateContent (input_config.file_name or
inline requests), GET /v1beta/batches/{id}, POST /v1beta/batches/{id}:cancel,
GET /v1beta/batches?pageSize=N&pageToken=T (the list: {operations,
nextPageToken}, newest first) and
GET /download/v1beta/files/{id}:download?alt=media.

OpenAI: POST /v1/files (multipart, with a purpose part), GET /v1/files/{id}
and /v1/files/{id}/content for those files, POST /v1/batches,
GET /v1/batches/{id}, POST /v1/batches/{id}/cancel and
GET /v1/batches?limit=N&after=ID (the list: {object, data, first_id,
last_id, has_more}, newest first; limit 1..100, default 20).

Each request line runs through the stub's own synchronous handler
(Stub.gemini, Stub.openai), so the [[fault:...]] tokens of a prompt give
per-item failures; file references are checked against the uploaded files.
Results come out shuffled.  How a batch ends is set with
POST /_stub/batch {"polls": N, "end": "succeed"|"expire"|"fail",
"fraction": F, "create_delay_ms": D, "page_max": P,
"refuse_image_uploads": S}: a batch runs once
polled N times (default 1); an expired or canceled batch answers the first
fraction F of its lines (default 0.5); a create is answered D ms after the
batch is made (default 0: a client killed meanwhile never learns its
name); list pages hold at most P batches (default 100; Gemini's pageSize
defaults to 50); with S (an HTTP status, default 0: off) every upload of a
reference image is refused with S (Gemini at the upload's start, OpenAI
for purpose "vision"), request files still pass.
GET /_stub/batch shows the settings and counts.  Every request's log
line carries "batch_op" (upload-start, upload, create, poll, download,
cancel, file, list) and, for uploads, the sha256 of the bytes received.

Standard library only; bg-stub.py calls Batches(stub).dispatch(req, rec)
first and uses its answer unless it is None.
"""

import asyncio
import base64
import hashlib
import json
import re
import time
import urllib.parse

GRPC = {"OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3,
	"DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5, "ALREADY_EXISTS": 6,
	"PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
	"FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11,
	"UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
	"DATA_LOSS": 15, "UNAUTHENTICATED": 16}
OPENAI_ENDPOINTS = ("/v1/images/generations", "/v1/images/edits")
OPENAI_MAX_LINES = 50000
GEMINI_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main."


def dump(obj):
	return json.dumps(obj, separators=(",", ":")).encode()


def now_iso():
	return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Batches:
	def __init__(self, stub, response, parse_multipart):
		self.stub = stub
		self.Response = response
		self.parse_multipart = parse_multipart
		self.ref_uses = {}	# sha256 of a referenced file -> lines
		self.config = {"polls": 1, "end": "succeed", "fraction": 0.5,
			       "create_delay_ms": 0, "page_max": 100,
			       "refuse_image_uploads": 0}
		self.gfiles = {}	# "files/x" -> dict(bytes, mime, display)
		self.uploads = {}	# upload id -> dict(declared, got, mime...)
		self.gbatches = {}	# "batches/x" -> dict
		self.ofiles = {}	# "file-x" -> dict(bytes, purpose, filename)
		self.obatches = {}	# "batch_x" -> dict
		self.counts = {"gemini_uploads": 0, "gemini_batches": 0,
			       "openai_uploads": 0, "openai_batches": 0,
			       "lines": 0}

	# ---- helpers ---------------------------------------------------

	def resp(self, status, obj, headers=None):
		return self.Response(status, dump(obj), "application/json; charset=UTF-8",
			 headers)

	def gerr(self, code, msg, status=None):
		return self.stub.gemini_error(code, msg, status=status)

	def oerr(self, status, msg, code=None):
		return self.stub.openai_error(status, msg,
					      "invalid_request_error", None,
					      code)

	def log_ref(self, name, sha):
		self.ref_uses[sha] = self.ref_uses.get(sha, 0) + 1

	def gkey_ok(self, req):
		key = req.headers.get("x-goog-api-key")
		if key is None:
			for k, v in urllib.parse.parse_qsl(req.query):
				if k == "key":
					key = v
		return bool(key) and key != "bad-key"

	def fake_req(self, req, path, body, headers):
		R = type(req)
		f = R()
		f.method, f.target, f.version = "POST", path, "HTTP/1.1"
		f.path, f.query, f.t0 = path, "", time.time()
		f.headers = dict(headers)
		f.headers["content-type"] = "application/json"
		f.headers["host"] = req.headers.get("host", "")
		f.body = dump(body)
		return f

	@staticmethod
	def fake_rec(model):
		return {"provider": None, "model": model, "auth": None,
			"prompt": None, "images": [], "fields": {},
			"input_keys": None, "status": None, "fault": None}

	# ---- dispatch --------------------------------------------------

	async def dispatch(self, req, rec):
		p, m = req.path, req.method
		if p == "/_stub/batch":
			rec["provider"] = "control"
			return self.control(req)
		if p.startswith("/upload/v1beta/files"):
			rec["provider"] = "gemini"
			return self.g_upload(req, rec)
		g = re.match(r"^/v1beta/models/([^/:]+):batchGenerateContent$", p)
		if g:
			rec["provider"], rec["batch_op"] = "gemini", "create"
			rec["model"] = urllib.parse.unquote(g.group(1))
			if not self.gkey_ok(req):
				return self.gerr(403, "API key not valid.")
			return await self.late(self.g_create(req, rec))
		if p == "/v1beta/batches":
			rec["provider"], rec["batch_op"] = "gemini", "list"
			if not self.gkey_ok(req):
				return self.gerr(403, "API key not valid.")
			return self.g_list(req)
		g = re.match(r"^/v1beta/(batches/[A-Za-z0-9_-]+)(:cancel)?$", p)
		if g:
			rec["provider"] = "gemini"
			rec["batch_op"] = "cancel" if g.group(2) else "poll"
			if not self.gkey_ok(req):
				return self.gerr(403, "API key not valid.")
			return await self.g_batch(req, g.group(1), bool(g.group(2)))
		g = re.match(r"^/(download/)?v1beta/(files/[A-Za-z0-9_-]+)"
			     r"(:download)?$", p)
		if g:
			rec["provider"] = "gemini"
			rec["batch_op"] = "download" if g.group(3) else "file"
			if not self.gkey_ok(req):
				return self.gerr(403, "API key not valid.")
			f = self.gfiles.get(g.group(2))
			if f is None:
				return self.gerr(404, "File %s not found." %
						 g.group(2))
			if g.group(3):
				return self.Response(
				    200, f["bytes"], "application/octet-stream")
			return self.resp(200, self.g_file_json(req, g.group(2)))
		return await self.openai(req, rec)

	async def openai(self, req, rec):
		p, m = req.path, req.method
		g = re.match(r"^/v1/files/(file-[A-Za-z0-9]+)(/content)?$", p)
		if g and g.group(1) in self.ofiles:
			rec["provider"] = "openai"
			rec["batch_op"] = "download" if g.group(2) else "file"
			if self.stub.bearer(req) != "ok":
				return self.oerr(401, "Incorrect API key provided.")
			f = self.ofiles[g.group(1)]
			if g.group(2):
				return self.Response(
				    200, f["bytes"], "application/octet-stream")
			return self.resp(200, self.o_file_json(g.group(1)))
		if p == "/v1/files" and m == "POST" and \
		    b'name="purpose"' in req.body:
			rec["provider"], rec["batch_op"] = "openai", "upload"
			return self.o_upload(req, rec)
		g = re.match(r"^/v1/batches(?:/(batch_[A-Za-z0-9]+)(/cancel)?)?$",
			     p)
		if g:
			rec["provider"] = "openai"
			rec["batch_op"] = "create" if not g.group(1) else \
			    "cancel" if g.group(2) else "poll"
			if self.stub.bearer(req) != "ok":
				return self.oerr(401, "Incorrect API key provided.")
			if not g.group(1) and m == "GET":
				rec["batch_op"] = "list"
				return self.o_list(req)
			if not g.group(1):
				return await self.late(self.o_create(req, rec))
			return await self.o_batch(req, g.group(1),
						  bool(g.group(2)))
		return None

	async def late(self, resp):
		"""A create's answer, create_delay_ms after the batch exists."""
		if resp.status == 200 and self.config["create_delay_ms"]:
			await asyncio.sleep(self.config["create_delay_ms"] / 1000)
		return resp

	def page(self, names, start, size):
		"""names[start:start + size], size clamped to page_max."""
		size = max(1, min(size, int(self.config["page_max"])))
		return names[start:start + size], start + size < len(names)

	def g_list(self, req):
		q = dict(urllib.parse.parse_qsl(req.query))
		names = sorted(self.gbatches, reverse=True,
			       key=lambda n: self.gbatches[n]["seq"])
		try:
			size = int(q.get("pageSize", "50"))
			start = int(base64.urlsafe_b64decode(
			    q.get("pageToken", "") + "==").decode() or "0") \
			    if q.get("pageToken") else 0
		except ValueError:
			return self.gerr(400, "Invalid page token.")
		names, more = self.page(names, start, size)
		out = {"operations": [self.g_json(n) for n in names]}
		if more:
			out["nextPageToken"] = base64.urlsafe_b64encode(
			    str(start + len(names)).encode()).decode().rstrip("=")
		return self.resp(200, out)

	def o_list(self, req):
		q = dict(urllib.parse.parse_qsl(req.query))
		ids = sorted(self.obatches, reverse=True,
			     key=lambda n: self.obatches[n]["seq"])
		try:
			limit = int(q.get("limit", "20"))
		except ValueError:
			limit = 0
		if not 1 <= limit <= 100:
			return self.oerr(400, "Invalid 'limit': integer between 1 "
					 "and 100.")
		start = ids.index(q["after"]) + 1 if q.get("after") in ids else 0
		if q.get("after") and q["after"] not in ids:
			return self.oerr(400, "No batch %s." % q["after"])
		ids, more = self.page(ids, start, limit)
		return self.resp(200, {"object": "list",
				       "data": [self.o_json(b) for b in ids],
				       "first_id": ids[0] if ids else None,
				       "last_id": ids[-1] if ids else None,
				       "has_more": more})

	def control(self, req):
		if req.method == "POST":
			try:
				conf = json.loads(req.body or b"{}")
			except ValueError:
				return self.resp(400, {"error": "bad JSON"})
			self.config.update(conf)
		return self.resp(200, {"config": self.config,
				       "counts": self.counts,
				       "ref_uses": self.ref_uses,
				       "gemini_batches": sorted(self.gbatches),
				       "openai_batches": sorted(self.obatches)})

	# ---- Gemini Files API (resumable upload) ---------------------

	def g_file_json(self, req, name):
		f = self.gfiles[name]
		return {"name": name, "displayName": f["display"],
			"mimeType": f["mime"], "sizeBytes": str(len(f["bytes"])),
			"createTime": f["created"], "updateTime": f["created"],
			"expirationTime": f["expires"],
			"sha256Hash": f["sha256"],
			"uri": self.stub.base_url(req) + "/v1beta/" + name,
			"state": "ACTIVE", "source": "UPLOADED"}

	def g_upload(self, req, rec):
		h = req.headers
		q = dict(urllib.parse.parse_qsl(req.query))
		cmd = [c.strip() for c in
		       h.get("x-goog-upload-command", "").lower().split(",")]
		if "upload_id" not in q:
			rec["batch_op"] = "upload-start"
			if not self.gkey_ok(req):
				return self.gerr(403, "API key not valid.")
			if h.get("x-goog-upload-protocol", "").lower() != \
			    "resumable" or cmd != ["start"]:
				return self.gerr(400, "Upload protocol or "
						 "command missing or wrong.")
			try:
				size = int(h["x-goog-upload-header-content-length"])
			except (KeyError, ValueError):
				return self.gerr(400, "X-Goog-Upload-Header-"
						 "Content-Length is required.")
			try:
				meta = json.loads(req.body or b"{}").get("file", {})
			except (ValueError, AttributeError):
				return self.gerr(400, "Invalid JSON payload.")
			refuse = self.config.get("refuse_image_uploads")
			if refuse and h.get("x-goog-upload-header-content-type",
					    "").startswith("image/"):
				return self.gerr(refuse, "Upload refused (stub "
						 "refuse_image_uploads).")
			uid = self.stub.rand_id(20)
			self.uploads[uid] = {
			    "size": size, "data": bytearray(),
			    "mime": h.get("x-goog-upload-header-content-type",
					  "application/octet-stream"),
			    "display": meta.get("display_name",
						meta.get("displayName", ""))}
			url = "%s/upload/v1beta/files?upload_id=%s&" \
			    "upload_protocol=resumable" % (
				self.stub.base_url(req), uid)
			return self.Response(
			    200, b"", "text/plain",
			    [("X-Goog-Upload-URL", url),
			     ("X-Goog-Upload-Status", "active"),
			     ("X-Goog-Upload-Chunk-Granularity", "262144")])
		rec["batch_op"] = "upload"
		u = self.uploads.get(q["upload_id"])
		if u is None:
			return self.gerr(404, "No such upload session.")
		try:
			off = int(h.get("x-goog-upload-offset", ""))
		except ValueError:
			return self.gerr(400, "X-Goog-Upload-Offset is required.")
		if off != len(u["data"]) or not ("upload" in cmd or
						 "finalize" in cmd):
			return self.gerr(400, "Offset %d does not match %d "
					 "bytes received." % (off,
							      len(u["data"])))
		u["data"] += req.body
		if "finalize" not in cmd:
			return self.Response(
			    200, b"", "text/plain",
			    [("X-Goog-Upload-Status", "active")])
		del self.uploads[q["upload_id"]]
		if len(u["data"]) != u["size"]:
			return self.gerr(400, "Received %d bytes, declared %d." %
					 (len(u["data"]), u["size"]))
		name = "files/" + self.stub.rand_id(12)
		data = bytes(u["data"])
		rec["sha256"] = hashlib.sha256(data).hexdigest()
		rec["upload_bytes"] = len(data)
		self.gfiles[name] = {"bytes": data, "mime": u["mime"],
				     "display": u["display"], "created": now_iso(),
				     "expires": time.strftime(
					 "%Y-%m-%dT%H:%M:%SZ",
					 time.gmtime(time.time() + 172800)),
				     "sha256": rec["sha256"]}
		self.counts["gemini_uploads"] += 1
		return self.resp(200, {"file": self.g_file_json(req, name)},
				 [("X-Goog-Upload-Status", "final")])

	# ---- Gemini Batch API ---------------------------------------

	def g_create(self, req, rec):
		try:
			body = json.loads(req.body)
			batch = body["batch"]
			ic = batch.get("input_config", batch.get("inputConfig"))
		except (ValueError, KeyError, TypeError, AttributeError):
			return self.gerr(400, "Invalid JSON payload: batch is "
					 "required.")
		if not isinstance(ic, dict):
			return self.gerr(400, "batch.input_config is required.")
		fname = ic.get("file_name", ic.get("fileName"))
		if fname is not None:
			f = self.gfiles.get(fname)
			if f is None:
				return self.gerr(404, "File %s not found." % fname)
			lines = []
			for i, raw in enumerate(f["bytes"].splitlines()):
				if not raw.strip():
					continue
				try:
					o = json.loads(raw)
					lines.append((o["key"], o["request"]))
				except (ValueError, KeyError, TypeError):
					return self.gerr(400, "Line %d of %s is not "
							 "{key, request}." %
							 (i + 1, fname))
		else:
			reqs = (ic.get("requests") or {}).get("requests")
			if not isinstance(reqs, list):
				return self.gerr(400, "input_config needs "
						 "file_name or requests.")
			lines = [((r.get("metadata") or {}).get("key", str(i)),
				  r.get("request")) for i, r in enumerate(reqs)]
		name = "batches/" + self.stub.rand_id(16)
		self.gbatches[name] = {
		    "model": rec["model"], "lines": lines, "polls": 0,
		    "state": "BATCH_STATE_PENDING", "created": now_iso(),
		    "display": batch.get("display_name",
					 batch.get("displayName", "")),
		    "key": req.headers.get("x-goog-api-key", ""),
		    "out": None, "ok": 0, "failed": 0, "cancel": False,
		    "seq": len(self.gbatches)}
		rec["lines"] = len(lines)
		self.counts["gemini_batches"] += 1
		self.counts["lines"] += len(lines)
		return self.resp(200, self.g_json(name))

	def g_json(self, name):
		b = self.gbatches[name]
		n = len(b["lines"])
		md = {"@type": GEMINI_TYPE + "GenerateContentBatch",
		      "model": "models/" + b["model"], "displayName": b["display"],
		      "createTime": b["created"], "updateTime": now_iso(),
		      "state": b["state"], "name": name,
		      "batchStats": {"requestCount": str(n),
				     "successfulRequestCount": str(b["ok"]),
				     "failedRequestCount": str(b["failed"]),
				     "pendingRequestCount": str(
					 n - b["ok"] - b["failed"])}}
		out = {"name": name, "metadata": md}
		if b["out"]:
			md["output"] = {"responsesFile": b["out"]}
		if b["state"] not in ("BATCH_STATE_PENDING",
				      "BATCH_STATE_RUNNING"):
			out["done"] = True
			if b["state"] == "BATCH_STATE_FAILED":
				out["error"] = {"code": 3, "message":
						"the batch failed (stub)"}
			else:
				out["response"] = {
				    "@type": GEMINI_TYPE +
				    "GenerateContentBatchOutput",
				    "responsesFile": b["out"]}
		return out

	async def g_line(self, req, b, key, request):
		"""One request line through Stub.gemini: the output line."""
		if not isinstance(request, dict):
			return {"key": key, "error": {
			    "code": 3, "message": "request is not an object",
			    "status": "INVALID_ARGUMENT"}}
		for c in request.get("contents") or []:
			for part in (c.get("parts") or []) \
			    if isinstance(c, dict) else []:
				fd = part.get("file_data", part.get("fileData")) \
				    if isinstance(part, dict) else None
				if not isinstance(fd, dict):
					continue
				uri = fd.get("file_uri", fd.get("fileUri", ""))
				name = "files/" + uri.rsplit("/files/", 1)[-1]
				f = self.gfiles.get(name)
				if f is None:
					return {"key": key, "error": {
					    "code": 5, "status": "NOT_FOUND",
					    "message": "File %s not found." % uri}}
				self.log_ref(name, f["sha256"])
		fake = self.fake_req(req, "/v1beta/models/%s:generateContent" %
				     b["model"], request,
				     {"x-goog-api-key": b["key"]})
		r = await self.stub.gemini(fake, self.fake_rec(b["model"]))
		if r.status == 200 and not r.delivery:
			return {"key": key, "response": json.loads(r.body)}
		try:
			e = json.loads(r.body)
			e = (e[0] if isinstance(e, list) else e)["error"]
		except (ValueError, KeyError, TypeError, IndexError):
			e = {"message": "internal error", "status": "INTERNAL"}
		return {"key": key, "error": {
		    "code": GRPC.get(e.get("status"), 13),
		    "message": e.get("message", ""),
		    "status": e.get("status", "INTERNAL"),
		    **({"details": e["details"]} if "details" in e else {})}}

	async def g_run(self, req, name, end):
		b = self.gbatches[name]
		lines = list(b["lines"])
		if end in ("expire", "cancel"):
			lines = lines[:int(len(lines) * self.config["fraction"])]
		out = []
		for key, request in lines:
			o = await self.g_line(req, b, key, request)
			if "response" in o:
				b["ok"] += 1
			else:
				b["failed"] += 1
			out.append(dump(o))
		self.stub.rng.shuffle(out)
		fname = "files/batch-" + self.stub.rand_id(12)
		data = b"".join(x + b"\n" for x in out)
		self.gfiles[fname] = {"bytes": data, "mime": "application/jsonl",
				      "display": "responses", "created": now_iso(),
				      "expires": now_iso(), "sha256":
				      hashlib.sha256(data).hexdigest()}
		b["out"] = fname
		b["state"] = {"expire": "BATCH_STATE_EXPIRED",
			      "cancel": "BATCH_STATE_CANCELLED",
			      "fail": "BATCH_STATE_FAILED"}.get(
				  end, "BATCH_STATE_SUCCEEDED")
		if end == "fail":
			b["out"] = None

	async def g_batch(self, req, name, cancel):
		b = self.gbatches.get(name)
		if b is None:
			return self.gerr(404, "Batch %s not found." % name)
		done = b["state"] not in ("BATCH_STATE_PENDING",
					  "BATCH_STATE_RUNNING")
		if cancel:
			if req.method != "POST":
				return self.gerr(405, "Method not allowed")
			if not done:
				b["cancel"] = True
			return self.resp(200, {})
		if req.method != "GET":
			return self.gerr(405, "Method not allowed")
		if not done:
			b["polls"] += 1
			if b["cancel"]:
				await self.g_run(req, name, "cancel")
			elif b["polls"] > self.config["polls"]:
				await self.g_run(req, name, self.config["end"])
			else:
				b["state"] = "BATCH_STATE_RUNNING"
		return self.resp(200, self.g_json(name))

	# ---- OpenAI Files and Batch APIs ----------------------------

	def o_file_json(self, fid):
		f = self.ofiles[fid]
		return {"id": fid, "object": "file", "bytes": len(f["bytes"]),
			"created_at": f["created"], "filename": f["filename"],
			"purpose": f["purpose"], "status": "processed"}

	def o_upload(self, req, rec):
		if self.stub.bearer(req) != "ok":
			return self.oerr(401, "Incorrect API key provided.")
		try:
			parts = self.parse_multipart(
			    req.body, req.headers.get("content-type", ""))
		except ValueError as e:
			return self.oerr(400, "Could not parse multipart form: %s"
					 % e)
		purpose = file = None
		for part in parts:
			if part.name == "purpose" and part.filename is None:
				purpose = part.data.decode("utf-8", "replace")
			elif part.name == "file" and part.filename is not None:
				file = part
		if purpose not in ("batch", "vision", "user_data"):
			return self.oerr(400, "Invalid purpose.")
		if file is None:
			return self.oerr(400, "Missing required parameter: 'file'.")
		refuse = self.config.get("refuse_image_uploads")
		if refuse and purpose == "vision":
			return self.oerr(refuse, "Upload refused (stub "
					 "refuse_image_uploads).")
		fid = "file-" + self.stub.rand_id(22, "abcdefghijkmnopqrstuvwxyz"
						  "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
		self.ofiles[fid] = {"bytes": file.data, "purpose": purpose,
				    "filename": file.filename,
				    "created": int(time.time())}
		rec["sha256"] = hashlib.sha256(file.data).hexdigest()
		rec["upload_bytes"] = len(file.data)
		rec["fields"] = {"purpose": purpose, "filename": file.filename}
		self.counts["openai_uploads"] += 1
		return self.resp(200, self.o_file_json(fid))

	def o_create(self, req, rec):
		try:
			body = json.loads(req.body)
			fid, ep = body["input_file_id"], body["endpoint"]
		except (ValueError, KeyError, TypeError):
			return self.oerr(400, "input_file_id and endpoint are "
					 "required.")
		f = self.ofiles.get(fid)
		if f is None or f["purpose"] != "batch":
			return self.oerr(400, "No batch file with id %s." % fid)
		if ep not in OPENAI_ENDPOINTS:
			return self.oerr(400, "Unsupported endpoint %s." % ep)
		if body.get("completion_window") != "24h":
			return self.oerr(400, "completion_window must be 24h.")
		lines, ids, models = [], set(), set()
		for i, raw in enumerate(f["bytes"].splitlines()):
			if not raw.strip():
				continue
			try:
				o = json.loads(raw)
				cid, url, b = o["custom_id"], o["url"], o["body"]
			except (ValueError, KeyError, TypeError):
				return self.oerr(400, "Line %d is not a batch "
						 "request." % (i + 1))
			if cid in ids or o.get("method") != "POST" or url != ep:
				return self.oerr(400, "Line %d: duplicate "
						 "custom_id, method or url." % (i + 1))
			ids.add(cid)
			models.add(b.get("model"))
			lines.append((cid, b))
		if len(lines) > OPENAI_MAX_LINES or len(models) > 1:
			return self.oerr(400, "A batch holds at most %d requests "
					 "to one model." % OPENAI_MAX_LINES)
		bid = "batch_" + self.stub.rand_id(24, "0123456789abcdef")
		self.obatches[bid] = {
		    "endpoint": ep, "input": fid, "lines": lines, "polls": 0,
		    "status": "validating", "created": int(time.time()),
		    "auth": req.headers.get("authorization", ""),
		    "metadata": body.get("metadata"), "out": None, "err": None,
		    "ok": 0, "failed": 0, "cancel": False,
		    "seq": len(self.obatches)}
		rec["lines"] = len(lines)
		rec["fields"] = {"endpoint": ep}
		self.counts["openai_batches"] += 1
		self.counts["lines"] += len(lines)
		return self.resp(200, self.o_json(bid))

	def o_json(self, bid):
		b = self.obatches[bid]
		return {"id": bid, "object": "batch", "endpoint": b["endpoint"],
			"errors": {"object": "list", "data": [
			    {"code": "stub_failure", "message":
			     "the batch failed (stub)"}]}
			if b["status"] == "failed" else None,
			"input_file_id": b["input"], "completion_window": "24h",
			"status": b["status"], "output_file_id": b["out"],
			"error_file_id": b["err"], "created_at": b["created"],
			"request_counts": {"total": len(b["lines"]),
					   "completed": b["ok"],
					   "failed": b["failed"]},
			"metadata": b["metadata"]}

	async def o_line(self, req, b, cid, body):
		for ref in body.get("images") or []:
			fid = ref.get("file_id") if isinstance(ref, dict) else None
			if fid is not None and fid not in self.ofiles:
				e = {"error": {"message": "No file %s." % fid,
					       "type": "invalid_request_error",
					       "param": "images", "code": None}}
				return 400, {"id": "batch_req_" + self.stub.rand_id(),
					     "custom_id": cid, "response": {
						 "status_code": 400,
						 "request_id": "req_" +
						 self.stub.rand_id(),
						 "body": e}, "error": None}
			if fid is not None:
				self.log_ref(
				    fid, hashlib.sha256(
					self.ofiles[fid]["bytes"]).hexdigest())
		fake = self.fake_req(req, b["endpoint"], body,
				     {"authorization": b["auth"]})
		r = await self.stub.openai(fake, self.fake_rec(body.get("model")),
					   b["endpoint"].endswith("edits"))
		st = 500 if r.delivery else r.status
		try:
			rb = json.loads(r.body)
		except ValueError:
			rb = {"error": {"message": "server error",
					"type": "server_error", "param": None,
					"code": None}}
		return st, {"id": "batch_req_" + self.stub.rand_id(),
			    "custom_id": cid,
			    "response": {"status_code": st,
					 "request_id": "req_" + self.stub.rand_id(),
					 "body": rb}, "error": None}

	def o_file(self, lines, name):
		if not lines:
			return None
		self.stub.rng.shuffle(lines)
		fid = "file-" + self.stub.rand_id(22, "abcdefghijkmnopqrstuvwxyz"
						  "ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
		self.ofiles[fid] = {"bytes": b"".join(x + b"\n" for x in lines),
				    "purpose": "batch_output", "filename": name,
				    "created": int(time.time())}
		return fid

	async def o_run(self, req, bid, end):
		b = self.obatches[bid]
		n = len(b["lines"])
		ran = n if end not in ("expire", "cancel") else \
		    int(n * self.config["fraction"])
		ok, bad = [], []
		for i, (cid, body) in enumerate(b["lines"]):
			if i >= ran:
				code = "batch_expired" if end == "expire" else \
				    "batch_cancelled"
				bad.append(dump({"id": "batch_req_" +
						 self.stub.rand_id(),
						 "custom_id": cid, "response": None,
						 "error": {"code": code, "message":
							   "This request could not "
							   "be executed before the "
							   "batch ended."}}))
				b["failed"] += 1
				continue
			st, o = await self.o_line(req, b, cid, body)
			if st == 200:
				ok.append(dump(o))
				b["ok"] += 1
			else:
				bad.append(dump(o))
				b["failed"] += 1
		if end == "fail":
			b["status"] = "failed"
			b["ok"] = b["failed"] = 0
			return
		b["out"] = self.o_file(ok, "batch_%s_output.jsonl" % bid)
		b["err"] = self.o_file(bad, "batch_%s_error.jsonl" % bid)
		b["status"] = {"expire": "expired", "cancel": "cancelled"}.get(
		    end, "completed")

	async def o_batch(self, req, bid, cancel):
		b = self.obatches.get(bid)
		if b is None:
			return self.oerr(404, "No batch found with id '%s'." % bid)
		live = b["status"] in ("validating", "in_progress", "finalizing",
				       "cancelling")
		if cancel:
			if req.method != "POST":
				return self.oerr(405, "Method not allowed")
			if live:
				b["cancel"] = True
				b["status"] = "cancelling"
			return self.resp(200, self.o_json(bid))
		if req.method != "GET":
			return self.oerr(405, "Method not allowed")
		if live:
			b["polls"] += 1
			if b["cancel"]:
				await self.o_run(req, bid, "cancel")
			elif b["polls"] > self.config["polls"]:
				await self.o_run(req, bid, self.config["end"])
			else:
				b["status"] = "in_progress"
		return self.resp(200, self.o_json(bid))
