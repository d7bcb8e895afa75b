#!/usr/bin/python3
"""bg-stub: a loopback HTTP/1.1 server that speaks the Gemini, OpenAI Images
and Replicate protocols (doc/providers.md sections 1-3) with configurable latency
and fault injection, and logs every request it receives as NDJSON.

Standard library only (asyncio streams).  It binds 127.0.0.1 and runs until
SIGTERM/SIGINT, then exits 0.  See tests/stub/README.md for the options, the
fault tokens, the log format and the control endpoints.
"""

import argparse
import asyncio
import base64
import binascii
import collections
import email.utils
import hashlib
import http
import json
import os
import random
import re
import resource
import signal
import socket
import struct
import sys
import time
import traceback
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stub_batch  # noqa: E402  (the Batch APIs, tests/stub/stub_batch.py)

PROG = "bg-stub"
MAX_BODY = 512 << 20		# refuse request bodies above this (413)
MAX_HEAD = 256 << 10		# request line + headers; also the reader limit
MAX_PREDICTIONS = 100000	# oldest predictions are forgotten beyond this

# doc/providers.md section 1.4, 2.5-flash-image column.
RATIOS = {
	"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832),
	"3:4": (864, 1184), "4:3": (1184, 864), "4:5": (896, 1152),
	"5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768),
	"21:9": (1536, 672),
}
# the extra ratios of the Gemini 3.x image models (1K class)
RATIOS_GEMINI3 = {
	"1:4": (512, 2048), "4:1": (2048, 512), "1:8": (384, 3072),
	"8:1": (3072, 384),
}
OPENAI_SIZES = ("auto", "1024x1024", "1536x1024", "1024x1536", "256x256",
		"512x512")
IMAGE_MIMES = ("image/png", "image/jpeg", "image/webp")
GEMINI_STATUS = {
	400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
	404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
	503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
STATIC_TYPES = {
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".webp": "image/webp", ".gif": "image/gif", ".svg": "image/svg+xml",
	".heic": "image/heic", ".avif": "image/avif", ".bmp": "image/bmp",
	".tif": "image/tiff", ".tiff": "image/tiff",
	".json": "application/json", ".ndjson": "application/x-ndjson",
	".txt": "text/plain; charset=utf-8", ".html": "text/html; charset=utf-8",
	".css": "text/css", ".js": "text/javascript", ".csv": "text/csv",
	".pdf": "application/pdf",
}
LOG_HEADERS = ("content-type", "prefer", "user-agent", "expect",
	       "transfer-encoding", "connection", "accept",
	       "accept-encoding", "idempotency-key", "cancel-after")

# Fault kinds.  Outcomes decide what the answer is; modifiers change how a
# success looks or how long it takes, and combine with an outcome.
OUTCOMES = {"429", "quota", "credits", "noimage", "500", "502", "503", "504", "400", "401", "403",
	    "404", "drop", "truncate", "badjson", "textonly", "blocked",
	    "blocked-finish", "hang", "failed", "canceled"}
OUTCOMES_ARG = {"429-ra", "429-radate", "429-retryinfo", "429-ms"}
MODIFIERS = {"thought", "snake", "array-error"}
# Models the providers have shut down, as of 2026-11-29 (their deprecation
# pages; share/batchgen/models.json): requests naming one get the
# provider's "no such model" answer.  --retired replaces the list.
RETIRED = ("gemini-2.5-flash-image,gemini-2.0-flash-preview-image-generation,"
	   "gemini-3.1-flash-image-preview,gemini-3-pro-image-preview,"
	   "imagen-4.0-generate-001,gpt-image-1,dall-e-2,dall-e-3")
# Announced shutdowns GET /v1/models/{id} reports (OpenAI's shutdown_date).
OPENAI_SHUTDOWN = {"gpt-image-1.5": "2026-12-01",
		   "gpt-image-1-mini": "2026-12-01",
		   "chatgpt-image-latest": "2026-12-01"}
GEMINI_MODELS = ("gemini-3.1-flash-image", "gemini-3-pro-image",
		 "gemini-3.5-flash")
OPENAI_MODELS = ("gpt-image-2.6-flare", "gpt-image-2.6-sunburst",
		 "gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini",
		 "chatgpt-image-latest", "gpt-6-luna")
MODIFIERS_ARG = {"slow"}
FAULT_RE = re.compile(r"\[\[fault:([^\]]*)\]\]")
DELIVERY = {"drop", "truncate", "badjson", "hang"}

REASONS = {s.value: s.phrase for s in http.HTTPStatus}


def warn(msg):
	sys.stderr.write("%s: %s\n" % (PROG, msg))
	sys.stderr.flush()


def jdump(obj, pretty=False):
	if pretty:
		return json.dumps(obj, indent=2, ensure_ascii=False).encode()
	return json.dumps(obj, separators=(",", ":"),
			  ensure_ascii=False).encode()


def iso(t):
	return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
	    (".%06dZ" % int((t % 1) * 1e6))


def sniff(data):
	"""Image MIME type from the magic bytes, or None."""
	if data[:8] == b"\x89PNG\r\n\x1a\n":
		return "image/png"
	if data[:3] == b"\xff\xd8\xff":
		return "image/jpeg"
	if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
		return "image/webp"
	return None


def png_chunk(tag, data):
	"""A PNG chunk: length, tag, data, CRC."""
	return struct.pack(">I", len(data)) + tag + data + \
	    struct.pack(">I", zlib.crc32(tag + data))


def png_head(w, h):
	"""PNG signature and the IHDR of a w x h 8-bit RGB image."""
	return b"\x89PNG\r\n\x1a\n" + \
	    png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))


def solid_idat(w, h, colour):
	"""zlib stream of h identical filter-0 RGB rows.  All rows are equal,
	so one block of rows is deflated once (from a fresh state, ending in a
	full flush, hence self-contained and byte-aligned) and repeated: a
	large --image-size then costs about as much as a small one."""
	row = b"\x00" + bytes(colour) * w
	k = max(1, min(h, (256 << 10) // len(row)))
	block = row * k
	n, rem = divmod(h, k)
	c = zlib.compressobj(6, zlib.DEFLATED, -15)
	rep = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
	c = zlib.compressobj(6, zlib.DEFLATED, -15)
	tail = c.compress(row * rem) + c.flush(zlib.Z_FINISH)
	adler = 1
	for _ in range(n):
		adler = zlib.adler32(block, adler)
	adler = zlib.adler32(row * rem, adler)
	return b"\x78\x9c" + rep * n + tail + struct.pack(">I", adler)


def b64decode(s):
	"""Standard or URL-safe base64, padding optional (proto3 JSON bytes)."""
	if isinstance(s, str):
		s = s.encode("ascii", "strict")
	s = s.strip()
	pad = b"=" * (-len(s) % 4)
	try:
		return base64.b64decode(s + pad, validate=True)
	except binascii.Error:
		return base64.b64decode(s + pad, altchars=b"-_", validate=True)


def image_entry(data, declared=None, **extra):
	e = {"mime": sniff(data), "bytes": len(data),
	     "sha256": hashlib.sha256(data).hexdigest()}
	if declared is not None and declared != e["mime"]:
		e["declared_mime"] = declared
	e.update(extra)
	return e


def clip(s, n=200):
	if isinstance(s, str) and len(s) > n:
		return s[:n] + "...(%d chars)" % len(s)
	return s


def header_params(value):
	"""'form-data; name="a"; filename="b"' -> ('form-data', {...})."""
	parts = re.findall(r'(?:[^;"]|"(?:[^"\\]|\\.)*")+', value)
	if not parts:
		return "", {}
	main = parts[0].strip().lower()
	params = {}
	for p in parts[1:]:
		if "=" not in p:
			continue
		k, v = p.split("=", 1)
		k = k.strip().lower()
		v = v.strip()
		if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
			v = re.sub(r'\\(.)', r'\1', v[1:-1])
		params[k] = v
	return main, params


class Part:
	__slots__ = ("name", "filename", "ctype", "data")

	def __init__(self, name, filename, ctype, data):
		self.name, self.filename = name, filename
		self.ctype, self.data = ctype, data


def parse_multipart(body, ctype):
	"""Split a multipart/form-data body; raises ValueError."""
	main, params = header_params(ctype or "")
	if main != "multipart/form-data":
		raise ValueError("Content-Type is not multipart/form-data")
	boundary = params.get("boundary")
	if not boundary:
		raise ValueError("multipart boundary missing")
	delim = b"--" + boundary.encode("latin-1")
	pos = body.find(delim)
	if pos < 0 or (pos > 0 and body[pos - 2:pos] != b"\r\n"):
		raise ValueError("multipart boundary not found")
	pos += len(delim)
	parts = []
	while True:
		if body[pos:pos + 2] == b"--":
			return parts
		eol = body.find(b"\r\n", pos)
		if eol < 0 or body[pos:eol].strip(b" \t"):
			raise ValueError("malformed multipart delimiter")
		pos = eol + 2
		if body[pos:pos + 2] == b"\r\n":
			raw, start = b"", pos + 2
		else:
			hend = body.find(b"\r\n\r\n", pos)
			if hend < 0:
				raise ValueError("unterminated part headers")
			raw, start = body[pos:hend], hend + 4
		end = body.find(b"\r\n" + delim, start)
		if end < 0:
			raise ValueError("unterminated multipart body")
		hdrs = {}
		for line in raw.split(b"\r\n"):
			if b":" in line:
				k, v = line.split(b":", 1)
				hdrs[k.strip().lower().decode("latin-1")] = \
				    v.strip().decode("utf-8", "replace")
		disp, dp = header_params(hdrs.get("content-disposition", ""))
		if disp != "form-data" or "name" not in dp:
			raise ValueError("part without form-data name")
		parts.append(Part(dp["name"], dp.get("filename"),
				  hdrs.get("content-type"), body[start:end]))
		pos = end + 2 + len(delim)


def parse_data_url(s):
	"""'data:image/png;base64,....' -> (mime, bytes); raises ValueError."""
	head, sep, data = s.partition(",")
	if not sep or not head.startswith("data:"):
		raise ValueError("malformed data URL")
	meta = head[5:].split(";")
	mime = meta[0] or "text/plain"
	if "base64" in meta[1:]:
		try:
			return mime, b64decode(data)
		except (binascii.Error, ValueError, UnicodeError):
			raise ValueError("bad base64 in data URL")
	return mime, urllib.parse.unquote_to_bytes(data)


class Request:
	__slots__ = ("method", "target", "path", "query", "version", "headers",
		     "body", "t0")


class Response:
	__slots__ = ("status", "headers", "body", "delivery")

	def __init__(self, status, body=b"", ctype=None, headers=None,
		     delivery=None):
		self.status = status
		self.headers = list(headers or [])
		if ctype:
			self.headers.insert(0, ("Content-Type", ctype))
		self.body = body
		self.delivery = delivery


class Fault:
	"""What the fault tokens of one request decided."""
	__slots__ = ("outcome", "arg", "mods", "applied")

	def __init__(self):
		self.outcome, self.arg = None, None
		self.mods, self.applied = {}, []

	def describe(self):
		return ",".join(self.applied) or None


def parse_kind(text):
	"""'429-ra=2' -> ('429-ra', 2.0); None if unknown."""
	text = text.strip()
	if "=" in text:
		base, _, a = text.partition("=")
		if base not in OUTCOMES_ARG and base not in MODIFIERS_ARG:
			return None
		try:
			arg = float(a)
		except ValueError:
			return None
		if arg < 0 or arg != arg or arg == float("inf"):
			return None
		return base, arg
	if text in OUTCOMES or text in MODIFIERS:
		return text, None
	return None


class Prediction:
	__slots__ = ("id", "model", "version", "input", "t0", "wall0",
		     "runtime", "end", "error", "canceled_at", "w", "h",
		     "colour", "output", "cancel_at")


def parse_duration(v):
	"""Replicate's Cancel-After value ("90s", "5m", "1h30m", "500ms")
	in seconds, or None when malformed."""
	if not v:
		return None
	parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", v.strip())
	if not parts or "".join(a + b for a, b in parts) != v.strip():
		return None
	unit = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
	return sum(float(a) * unit[b] for a, b in parts)


class Stub:
	def __init__(self, args):
		self.args = args
		self.rng = random.Random(args.seed)
		self.port = 0
		self.seq = 0
		self.fault_counts = {}
		self.predictions = collections.OrderedDict()
		self.files = {}
		self.png_cache = collections.OrderedDict()
		self.noise_cache = {}
		self.conn_tasks = set()
		self.in_flight = 0
		self.connections = 0
		self.stopping = False
		self._date = (0, "")
		self.log = None
		if args.log:
			self.log = open(args.log, "a", encoding="utf-8")
		self.retired = set(m for m in args.retired.split(",") if m)
		self.batch = stub_batch.Batches(self, Response, parse_multipart)
		self.static_root = None
		if args.static:
			self.static_root = os.path.realpath(args.static)
		self.reset()

	def reset(self):
		self.fault_counts.clear()
		self.n_requests = 0
		self.by_path = collections.Counter()
		self.by_status = collections.Counter()
		self.by_provider = collections.Counter()
		self.by_fault = collections.Counter()
		self.max_in_flight = self.in_flight
		self.max_connections = self.connections

	# ---- helpers ---------------------------------------------------

	def rand_id(self, n=26, alphabet="abcdefghijklmnopqrstuvwxyz234567"):
		return "".join(self.rng.choice(alphabet) for _ in range(n))

	def http_date(self):
		now = int(time.time())
		if self._date[0] != now:
			self._date = (now, email.utils.formatdate(now,
							     usegmt=True))
		return self._date[1]

	def latency(self, fault):
		if fault is not None and "slow" in fault.mods:
			return fault.mods["slow"] / 1000.0
		ms = self.args.latency_ms
		if ms <= 0:
			return 0.0
		if self.args.latency_dist == "uniform":
			ms = self.rng.uniform(0.5 * ms, 1.5 * ms)
		return ms / 1000.0

	def size_for_ratio(self, ratio):
		if self.args.image_size:
			return self.args.image_size
		w, h = RATIOS.get(ratio) or RATIOS_GEMINI3.get(ratio) or \
		    RATIOS["1:1"]
		return w // 16, h // 16

	def size_for_wxh(self, w, h):
		if self.args.image_size:
			return self.args.image_size
		return max(1, w // 16), max(1, h // 16)

	@staticmethod
	def colour(text, salt=""):
		d = hashlib.sha256((text + salt).encode("utf-8", "replace"))
		return tuple(d.digest()[:3])

	def png(self, w, h, colour):
		"""(png bytes, base64 str) for a solid w x h RGB image, cached;
		with --image-noise random pixels instead, seeded by colour."""
		if self.args.image_noise:
			return self.noise_png(w, h, colour)
		key = (w, h, colour)
		hit = self.png_cache.get(key)
		if hit is not None:
			self.png_cache.move_to_end(key)
			return hit
		data = png_head(w, h) + \
		    png_chunk(b"IDAT", solid_idat(w, h, colour)) + \
		    png_chunk(b"IEND", b"")
		hit = (data, base64.b64encode(data).decode("ascii"))
		self.png_cache[key] = hit
		if len(self.png_cache) > 4096:
			self.png_cache.popitem(last=False)
		return hit

	def noise_png(self, w, h, colour):
		"""A w x h PNG of random pixels stored uncompressed: as large as
		a photo of that size, which PNG does not shrink either.  The
		pixels (and their base64) are made once per size; each colour
		(each prompt) gets its own file through a tEXt chunk before
		them, padded to a multiple of 3 bytes so that the base64 of the
		whole is the two base64 texts joined: an answer costs the stub
		the copy, not the drawing (60 ms of Python a request, a core at
		32 requests a second, made the stub what a bench measured)."""
		tail = self.noise_cache.get((w, h))
		if tail is None:
			px = random.Random(b"%dx%d" % (w, h)).randbytes(w * h * 3)
			n = w * 3
			raw = b"".join(b"\0" + px[i:i + n]
			    for i in range(0, n * h, n))
			data = png_chunk(b"IDAT", zlib.compress(raw, 0)) + \
			    png_chunk(b"IEND", b"")
			tail = (data, base64.b64encode(data).decode("ascii"))
			self.noise_cache[(w, h)] = tail
		text = b"Comment\0" + bytes(colour).hex().encode()
		while (8 + 25 + 12 + len(text)) % 3:
			text += b" "
		head = png_head(w, h) + png_chunk(b"tEXt", text)
		return head + tail[0], \
		    base64.b64encode(head).decode("ascii") + tail[1]

	def select_faults(self, key, prompt):
		"""Apply the [[fault:...]] tokens of prompt; key counts repeats."""
		toks = FAULT_RE.findall(prompt or "")
		if not toks:
			return None
		f = Fault()
		parsed = []
		for tok in toks:
			kind, star, n = tok.partition("*")
			limit = None
			if star:
				try:
					limit = int(n)
				except ValueError:
					limit = -1
			pk = parse_kind(kind)
			if pk is None or (limit is not None and limit < 0):
				# A typo must not pass as a success.
				f.outcome, f.arg = "unknown", tok
				f.applied = ["unknown:" + tok]
				return f
			parsed.append((kind.strip(), pk[0], pk[1], limit))
		i = self.fault_counts.get(key, 0)
		self.fault_counts[key] = i + 1
		rest = i
		for kind, base, arg, limit in parsed:
			if base in MODIFIERS or base in MODIFIERS_ARG:
				if limit is None or i < limit:
					f.mods[base] = arg
					f.applied.append(kind.strip())
				continue
			if f.outcome is not None:
				continue
			if limit is None or rest < limit:
				f.outcome, f.arg = base, arg
				f.applied.insert(0, kind.strip())
			else:
				rest -= limit
		return f

	def base_url(self, req):
		host = req.headers.get("host") or "127.0.0.1:%d" % self.port
		return "http://" + host

	@staticmethod
	def bearer(req, schemes=("bearer",)):
		v = req.headers.get("authorization")
		if v is None:
			return "missing"
		scheme, _, tok = v.strip().partition(" ")
		tok = tok.strip()
		if scheme.lower() not in schemes or not tok or \
		    tok in ("bad-key", "wrong-key"):
			return "bad"
		return "ok"

	@staticmethod
	def sent_auth(req):
		"""For URLs that need no auth: did the client send a secret?"""
		v = req.headers.get("authorization",
				    req.headers.get("x-goog-api-key"))
		if v is None:
			return "missing"
		return "bad" if "bad-key" in v else "ok"

	# ---- logging and stats ----------------------------------------

	def new_rec(self, req):
		self.seq += 1
		# new_rec runs once the body is in: how long it took to come
		rec = {"seq": self.seq, "time": round(req.t0, 6),
		       "body_ms": round((time.time() - req.t0) * 1000, 1),
		       "method": req.method, "path": req.path,
		       "provider": None, "model": None, "auth": None,
		       "prompt": None, "images": [], "fields": {},
		       "input_keys": None, "status": None, "fault": None,
		       "content_type": req.headers.get("content-type"),
		       "body_bytes": len(req.body)}
		if req.query:
			q = urllib.parse.parse_qsl(req.query,
						   keep_blank_values=True)
			rec["query"] = "&".join(
			    k + "=" + ("REDACTED" if k == "key" else v)
			    for k, v in q)
		rec["headers"] = {k: req.headers[k] for k in LOG_HEADERS
				  if k in req.headers}
		return rec

	def finish_rec(self, req, rec, status):
		rec["status"] = status
		rec["elapsed_ms"] = round((time.time() - req.t0) * 1000, 1)
		if rec["provider"] != "control":
			self.by_status["none" if status is None
				       else str(status)] += 1
			if rec["fault"]:
				self.by_fault[rec["fault"]] += 1
		if self.log is not None:
			try:
				self.log.write(json.dumps(
				    rec, separators=(",", ":"),
				    ensure_ascii=False) + "\n")
				self.log.flush()
			except OSError as e:
				warn("log: %s" % e)

	@staticmethod
	def norm_path(path):
		p = re.sub(r"^/v1/predictions/[^/]+", "/v1/predictions/{id}",
			   path)
		p = re.sub(r"^/v1/files/[^/]+", "/v1/files/{id}", p)
		p = re.sub(r"^/replicate/files/.*", "/replicate/files/{id}", p)
		p = re.sub(r"^/static/.*", "/static/{path}", p)
		return p

	# ---- HTTP connection handling ---------------------------------

	async def handle_conn(self, reader, writer):
		task = asyncio.current_task()
		self.conn_tasks.add(task)
		self.connections += 1
		self.max_connections = max(self.max_connections,
					   self.connections)
		try:
			while not self.stopping:
				if not await self.one_request(reader, writer):
					break
		except (ConnectionError, asyncio.IncompleteReadError,
			asyncio.CancelledError):
			pass
		except Exception:
			traceback.print_exc()
		finally:
			self.connections -= 1
			self.conn_tasks.discard(task)
			try:
				writer.close()
			except Exception:
				pass

	@staticmethod
	async def read_body(reader, n):
		"""n bytes of body.  readexactly(n) gathers them in the reader's
		buffer, grown again and again to hold them all; pieces joined
		once cost one copy.  The stub's CPU for one of the bench's 5 MB
		bodies went from 45-60 ms to 37-49."""
		if n <= MAX_HEAD:
			return await reader.readexactly(n)
		parts, left = [], n
		while left:
			d = await reader.read(min(left, 1 << 20))
			if not d:
				raise asyncio.IncompleteReadError(b"".join(parts), n)
			parts.append(d)
			left -= len(d)
		return b"".join(parts)

	async def read_chunked(self, reader):
		body = bytearray()
		while True:
			line = await reader.readuntil(b"\r\n")
			size = line.split(b";", 1)[0].strip()
			try:
				n = int(size, 16)
			except ValueError:
				raise ValueError("bad chunk size")
			if n == 0:
				break
			if len(body) + n > MAX_BODY:
				raise OverflowError
			body += await reader.readexactly(n)
			if await reader.readexactly(2) != b"\r\n":
				raise ValueError("bad chunk terminator")
		while (await reader.readuntil(b"\r\n")) != b"\r\n":
			pass		# trailers
		return bytes(body)

	async def simple_error(self, writer, status, msg):
		body = (msg + "\n").encode()
		writer.write(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			      "Content-Length: %d\r\nConnection: close\r\n\r\n"
			      % (status, REASONS.get(status, ""), len(body))
			      ).encode() + body)
		try:
			await writer.drain()
		except ConnectionError:
			pass

	async def one_request(self, reader, writer):
		"""Serve one request; returns whether to keep the connection."""
		try:
			head = await reader.readuntil(b"\r\n\r\n")
		except asyncio.IncompleteReadError:
			return False
		except asyncio.LimitOverrunError:
			await self.simple_error(writer, 431, "headers too large")
			return False
		lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
		try:
			method, target, version = lines[0].split(" ")
			if not version.startswith("HTTP/1."):
				raise ValueError
		except ValueError:
			await self.simple_error(writer, 400, "bad request line")
			return False
		headers = {}
		for line in lines[1:]:
			if not line:
				continue
			k, sep, v = line.partition(":")
			if not sep:
				await self.simple_error(writer, 400, "bad header")
				return False
			k = k.strip().lower()
			v = v.strip()
			headers[k] = headers[k] + ", " + v if k in headers else v
		req = Request()
		req.t0 = time.time()
		req.method, req.target, req.version = method, target, version
		req.headers = headers
		if target.startswith("http://") or target.startswith("https://"):
			target = "/" + target.split("/", 3)[3] \
			    if target.count("/") >= 3 else "/"
		req.path, _, req.query = target.partition("?")
		conn = headers.get("connection", "").lower()
		keep = ("close" not in conn) if version == "HTTP/1.1" \
		    else ("keep-alive" in conn)
		if headers.get("expect", "").lower() == "100-continue":
			writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
		try:
			if "chunked" in headers.get("transfer-encoding",
						    "").lower():
				req.body = await self.read_chunked(reader)
			elif "content-length" in headers:
				n = int(headers["content-length"])
				if n < 0:
					raise ValueError
				if n > MAX_BODY:
					raise OverflowError
				req.body = await self.read_body(reader, n) \
				    if n else b""
			else:
				req.body = b""
		except OverflowError:
			await self.simple_error(writer, 413, "body too large")
			return False
		except ValueError:
			await self.simple_error(writer, 400, "bad body framing")
			return False

		rec = self.new_rec(req)
		control = req.path.startswith("/_stub/")
		if not control:
			self.n_requests += 1
			self.by_path[self.norm_path(req.path)] += 1
			self.in_flight += 1
			self.max_in_flight = max(self.max_in_flight,
						 self.in_flight)
		status = None
		try:
			try:
				resp = await self.dispatch(req, rec)
			except asyncio.CancelledError:
				raise
			except Exception:
				traceback.print_exc()
				resp = Response(500, b"stub internal error\n",
						"text/plain")
			if rec["provider"] and rec["provider"] != "control":
				self.by_provider[rec["provider"]] += 1
			d = resp.delivery
			if d == "drop":
				return False
			if d == "hang":
				while await reader.read(65536):
					pass
				return False
			body = resp.body
			if d == "badjson":
				body = body[:max(1, len(body) // 2)]
			h = ["HTTP/1.1 %d %s" % (resp.status,
						 REASONS.get(resp.status, "")),
			     "Date: " + self.http_date(), "Server: bg-stub"]
			for k, v in resp.headers:
				h.append("%s: %s" % (k, v))
			h.append("Content-Length: %d" % len(body))
			if d == "truncate":
				keep = False
			elif not keep:
				h.append("Connection: close")
			elif version == "HTTP/1.0":
				h.append("Connection: keep-alive")
			writer.write(("\r\n".join(h) + "\r\n\r\n").encode(
			    "latin-1"))
			if req.method != "HEAD":
				if d == "truncate":
					body = body[:len(body) // 2]
				writer.write(body)
			await writer.drain()
			status = resp.status
			return keep
		finally:
			if not control:
				self.in_flight -= 1
			self.finish_rec(req, rec, status)

	async def dispatch(self, req, rec):
		p, m = req.path, req.method
		r = await self.batch.dispatch(req, rec)
		if r is not None:
			return r
		if p.startswith("/_stub/"):
			rec["provider"] = "control"
			return self.control(req, rec)
		g = re.match(r"^/v1(?:beta|alpha)?/models/([^/:]+):generateContent$",
			     p)
		if g:
			rec["provider"] = "gemini"
			rec["model"] = urllib.parse.unquote(g.group(1))
			if m != "POST":
				return self.gemini_error(405, "Method not allowed",
							 status="INVALID_ARGUMENT")
			return await self.gemini(req, rec)
		if p in ("/v1/images/generations", "/v1/images/edits"):
			rec["provider"] = "openai"
			if m != "POST":
				return self.openai_error(405, "Method not allowed",
							 "invalid_request_error")
			return await self.openai(req, rec, p.endswith("edits"))
		g = re.match(r"^/v1(?:beta|alpha)?/models(?:/([^/:]+))?$", p)
		if g and (p.startswith("/v1beta") or p.startswith("/v1alpha")):
			rec["provider"] = "gemini"
			return await self.gemini_models(req, rec, g.group(1))
		g = re.match(r"^/v1/models(?:/([^/]+))?$", p)
		if g:
			rec["provider"] = "openai"
			return await self.openai_models(req, rec, g.group(1))
		if p.startswith("/v1/") or p.startswith("/replicate/"):
			rec["provider"] = "replicate"
			return await self.replicate(req, rec)
		if p.startswith("/static/") or p == "/static":
			rec["provider"] = "static"
			return await self.static(req, rec)
		rec["provider"] = "unknown"
		return Response(404, b"not found\n", "text/plain")

	# ---- control ----------------------------------------------------

	def control(self, req, rec):
		if req.path == "/_stub/stats" and req.method in ("GET", "HEAD"):
			body = {"requests": self.n_requests,
				"by_path": dict(self.by_path),
				"by_status": dict(self.by_status),
				"by_provider": dict(self.by_provider),
				"by_fault": dict(self.by_fault),
				"max_in_flight": self.max_in_flight,
				"in_flight": self.in_flight,
				"connections": self.connections,
				"max_connections": self.max_connections,
				"predictions": len(self.predictions),
				"files": len(self.files),
				"port": self.port}
			return Response(200, jdump(body), "application/json")
		if req.path == "/_stub/reset" and req.method == "POST":
			self.reset()
			return Response(200, b'{"ok":true}', "application/json")
		return Response(404, b'{"error":"unknown control endpoint"}',
				"application/json")

	# ---- generic fault answers -------------------------------------

	def retry_headers(self, fault):
		k, a = fault.outcome, fault.arg
		if k == "429-ra":
			return [("Retry-After", "%d" % round(a))]
		if k == "429-radate":
			return [("Retry-After", email.utils.formatdate(
			    time.time() + a, usegmt=True))]
		if k == "429-ms":
			return [("retry-after-ms", "%d" % round(a))]
		return []

	@staticmethod
	def html_error(status):
		r = "%d %s" % (status, REASONS.get(status, ""))
		body = ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n"
			"<center><h1>%s</h1></center>\r\n</body>\r\n</html>\r\n"
			% (r, r)).encode()
		return Response(status, body, "text/html")

	# ---- Gemini -----------------------------------------------------

	def gemini_error(self, code, message, details=None, status=None,
			 headers=None, array=False):
		err = {"code": code, "message": message,
		       "status": status or GEMINI_STATUS.get(code, "UNKNOWN")}
		if details:
			err["details"] = details
		body = {"error": err}
		if array:
			body = [body]
		return Response(code, jdump(body, True),
				"application/json; charset=UTF-8", headers)

	def gemini_fault(self, fault, model):
		k, a = fault.outcome, fault.arg
		arr = "array-error" in fault.mods
		if k == "unknown":
			return self.gemini_error(400, "stub: unknown fault token "
						 "[[fault:%s]]" % a)
		if k.startswith("429"):
			details = [
			    {"@type": "type.googleapis.com/google.rpc.Help",
			     "links": [{"description": "Learn more about Gemini "
					"API quotas", "url": "https://ai.google.dev/"
					"gemini-api/docs/rate-limits"}]},
			    {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
			     "violations": [{
				"quotaMetric": "generativelanguage.googleapis.com/"
				"generate_content_paid_tier_requests",
				"quotaId": "GenerateRequestsPerMinutePerProject"
				"PerModel",
				"quotaDimensions": {"location": "global",
						    "model": model},
				"quotaValue": "10"}]}]
			msg = ("You exceeded your current quota, please check "
			       "your plan and billing details. For more "
			       "information on this error, head to: "
			       "https://ai.google.dev/gemini-api/docs/"
			       "rate-limits.")
			if k == "429-retryinfo":
				d = "%gs" % a
				msg += " Please retry in %s." % d
				details.append({"@type": "type.googleapis.com/"
						"google.rpc.RetryInfo",
						"retryDelay": d})
			return self.gemini_error(429, msg, details,
						 headers=self.retry_headers(fault),
						 array=arr)
		if k == "quota":
			details = [{
			    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
			    "violations": [{
				"quotaMetric": "generativelanguage.googleapis.com/"
				"generate_content_free_tier_requests",
				"quotaId": "GenerateRequestsPerDayPerProjectPer"
				"Model-FreeTier",
				"quotaDimensions": {"location": "global",
						    "model": model},
				"quotaValue": "100"}]}]
			return self.gemini_error(
			    429, "You exceeded your current quota, please check "
			    "your plan and billing details. Quota exceeded for "
			    "metric: generativelanguage.googleapis.com/generate_"
			    "content_free_tier_requests, limit: 100", details,
			    array=arr)
		if k == "credits":
			# prepaid credits used up: no quota id, no RetryInfo
			return self.gemini_error(
			    429, "Your prepayment credits are depleted. Please "
			    "go to AI Studio at https://ai.studio/projects to "
			    "manage your project and billing.", array=arr)
		if k == "502":
			return self.html_error(502)
		msgs = {
		    400: "Request contains an invalid argument.",
		    401: "Request had invalid authentication credentials. "
			 "Expected OAuth 2 access token, login cookie or other "
			 "valid authentication credential.",
		    403: "The caller does not have permission",
		    404: "models/%s is not found for API version v1beta, or is "
			 "not supported for generateContent. Call ListModels to "
			 "see the list of available models and their supported "
			 "methods." % model,
		    500: "An internal error has occurred. Please retry or "
			 "report in https://developers.generativeai.google/"
			 "guide/troubleshooting",
		    503: "The model is overloaded. Please try again later.",
		    504: "Deadline expired before operation could complete.",
		}
		code = int(k)
		return self.gemini_error(code, msgs[code], array=arr)

	async def gemini_auth(self, req, rec):
		"""None when the key is accepted, else the answer."""
		key = req.headers.get("x-goog-api-key")
		if key is None:
			for k, v in urllib.parse.parse_qsl(req.query):
				if k == "key":
					key = v
		rec["auth"] = "missing" if not key else \
		    ("bad" if key in ("bad-key", "wrong-key") else "ok")
		if rec["auth"] == "ok":
			return None
		await asyncio.sleep(self.latency(None))
		if rec["auth"] == "missing":
			return self.gemini_error(
			    401, "Method doesn't allow unregistered "
			    "callers (callers without established "
			    "identity). Please use API Key or other form "
			    "of API consumer identity to call this API.")
		info = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
			 "reason": "API_KEY_INVALID",
			 "domain": "googleapis.com",
			 "metadata": {"service":
				      "generativelanguage.googleapis.com"}}]
		# a well-formed key Google does not know: 400, as the live
		# API answers (bad-key keeps the older 403 shape)
		return self.gemini_error(
		    400 if key == "wrong-key" else 403,
		    "API key not valid. Please pass a valid API key.", info,
		    status="INVALID_ARGUMENT" if key == "wrong-key" else None)

	def gemini_not_found(self, model, method="generateContent"):
		return self.gemini_error(
		    404, "models/%s is not found for API version v1beta, or is "
		    "not supported for %s. Call ListModels to see the list of "
		    "available models and their supported methods." % (
			model, method))

	def gemini_model_json(self, name):
		return {"name": "models/" + name, "version": "001",
			"displayName": name, "inputTokenLimit": 65536,
			"outputTokenLimit": 32768,
			"supportedGenerationMethods": [
			    "generateContent", "countTokens",
			    "batchGenerateContent"]}

	async def gemini_models(self, req, rec, model):
		if model:
			rec["model"] = urllib.parse.unquote(model)
		err = await self.gemini_auth(req, rec)
		if err:
			return err
		await asyncio.sleep(self.latency(None))
		if req.method != "GET":
			return self.gemini_error(405, "Method not allowed",
						 status="INVALID_ARGUMENT")
		if not model:
			ms = [self.gemini_model_json(n) for n in GEMINI_MODELS
			      if n not in self.retired]
			return Response(200, jdump({"models": ms}, True),
					"application/json; charset=UTF-8")
		name = rec["model"]
		if name in self.retired:
			return self.gemini_error(
			    404, "models/%s is not found for API version v1beta"
			    % name)
		return Response(200, jdump(self.gemini_model_json(name), True),
				"application/json; charset=UTF-8")

	async def gemini(self, req, rec):
		model = rec["model"]
		err = await self.gemini_auth(req, rec)
		if err:
			return err
		if model in self.retired:
			await asyncio.sleep(self.latency(None))
			return self.gemini_not_found(model)

		def bad(msg):
			return self.gemini_error(400, msg)
		try:
			body = json.loads(req.body)
		except (ValueError, UnicodeDecodeError):
			return bad("Invalid JSON payload received. Unexpected "
				   "token.")
		if not isinstance(body, dict):
			return bad("Invalid JSON payload received. Expected an "
				   "object.")
		contents = body.get("contents")
		if isinstance(contents, dict):
			contents = [contents]
		if not isinstance(contents, list) or not contents:
			return bad("* GenerateContentRequest.contents: contents "
				   "is not specified")
		texts, images = [], []
		for ci, c in enumerate(contents):
			parts = c.get("parts") if isinstance(c, dict) else None
			if not isinstance(parts, list) or not parts:
				return bad("* GenerateContentRequest.contents[%d]"
					   ".parts: contents.parts must not be "
					   "empty." % ci)
			for pi, part in enumerate(parts):
				if not isinstance(part, dict):
					return bad("Invalid JSON payload received. "
						   "Unknown name at contents[%d]"
						   ".parts[%d]" % (ci, pi))
				if isinstance(part.get("text"), str):
					texts.append(part["text"])
				snake = "inline_data" in part
				idata = part.get("inline_data",
						 part.get("inlineData"))
				fdata = part.get("file_data",
						 part.get("fileData"))
				if idata is not None:
					where = "contents[%d].parts[%d].%s" % (
					    ci, pi, "inline_data" if snake
					    else "inlineData")
					if not isinstance(idata, dict):
						return bad("Invalid value at '%s'"
							   % where)
					mime = idata.get("mime_type",
							 idata.get("mimeType"))
					data = idata.get("data")
					if not isinstance(data, str) or not data:
						return bad("* GenerateContentRequest"
							   ".%s.data: required "
							   "field not set" % where)
					try:
						raw = b64decode(data)
					except (binascii.Error, ValueError,
						UnicodeError):
						return bad("Invalid value at '%s."
							   "data' (TYPE_BYTES), "
							   "Base64 decoding failed "
							   "for \"%s\"" % (
							       where, data[:20]))
					if mime not in IMAGE_MIMES + (
					    "image/heic", "image/heif"):
						return bad("Unsupported MIME type: "
							   "%s" % mime)
					if sniff(raw) is None:
						images.append(image_entry(
						    raw, mime, source="inline"))
						rec["images"] = images
						return bad("Unable to process input "
							   "image. Please retry or "
							   "report in https://"
							   "developers.generativeai"
							   ".google/guide/"
							   "troubleshooting")
					images.append(image_entry(
					    raw, mime, source="inline",
					    key="inline_data" if snake
					    else "inlineData"))
				elif isinstance(fdata, dict):
					images.append({"source": "file_data",
						       "url": fdata.get(
							   "file_uri",
							   fdata.get("fileUri")),
						       "declared_mime": fdata.get(
							   "mime_type",
							   fdata.get("mimeType"))})
		rec["images"] = images
		prompt = "\n".join(texts)
		rec["prompt"] = prompt
		gc = body.get("generationConfig", body.get("generation_config"))
		gc = gc if isinstance(gc, dict) else {}
		ic = gc.get("imageConfig", gc.get("image_config"))
		ic = ic if isinstance(ic, dict) else {}
		fields = rec["fields"]
		for src, name in ((gc, "responseModalities"),
				  (gc, "candidateCount"), (ic, "aspectRatio"),
				  (ic, "imageSize")):
			snake_name = re.sub(r"([A-Z])", r"_\1", name).lower()
			if name in src or snake_name in src:
				fields[name] = src.get(name, src.get(snake_name))
		ratio = fields.get("aspectRatio", "1:1")
		if ratio not in RATIOS and not (ratio in RATIOS_GEMINI3 and
						model.startswith("gemini-3")):
			return bad("* GenerateContentRequest.generation_config."
				   "image_config.aspect_ratio: Unsupported "
				   "aspect ratio: %s" % (ratio,))
		if "imageSize" in fields and fields["imageSize"] not in (
		    "1K", "2K", "4K", "512"):
			return bad("* GenerateContentRequest.generation_config."
				   "image_config.image_size: Unsupported image "
				   "size: %s" % (fields["imageSize"],))
		if not texts and not images:
			return bad("* GenerateContentRequest.contents[0].parts: "
				   "contains no text or data")

		fault = self.select_faults(prompt, prompt)
		rec["fault"] = fault.describe() if fault else None
		await asyncio.sleep(self.latency(fault))
		mods = fault.mods if fault else {}
		outcome = fault.outcome if fault else None
		if outcome is None and "array-error" in mods:
			outcome = fault.outcome = "503"
		if outcome in ("failed", "canceled"):
			outcome = None		# Replicate-only kinds
		if outcome is not None and outcome not in DELIVERY and \
		    outcome not in ("textonly", "blocked", "blocked-finish",
				    "noimage"):
			return self.gemini_fault(fault, model)

		resp_id = self.rand_id(22, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
		ptoks = max(1, len(prompt) // 4)
		usage = {"promptTokenCount": ptoks + 258 * len(images),
			 "candidatesTokenCount": 1290,
			 "totalTokenCount": ptoks + 258 * len(images) + 1290,
			 "promptTokensDetails": [
			     {"modality": "TEXT", "tokenCount": ptoks}],
			 "candidatesTokensDetails": [
			     {"modality": "IMAGE", "tokenCount": 1290}]}
		if images:
			usage["promptTokensDetails"].append(
			    {"modality": "IMAGE", "tokenCount": 258 * len(images)})
		if outcome == "blocked":
			out = {"promptFeedback": {"blockReason":
						  "PROHIBITED_CONTENT"},
			       "usageMetadata": {
				   "promptTokenCount": usage["promptTokenCount"],
				   "totalTokenCount": usage["promptTokenCount"]},
			       "modelVersion": model, "responseId": resp_id}
			return Response(200, jdump(out, True),
					"application/json; charset=UTF-8")
		if outcome == "blocked-finish":
			cand = {"finishReason": "IMAGE_SAFETY", "index": 0,
				"finishMessage": "Unable to show the generated "
				"image. The image was filtered out because it "
				"violated Google's Generative AI Prohibited Use "
				"policy. You will not be charged for blocked "
				"images. Try rephrasing the prompt."}
			out = {"candidates": [cand],
			       "usageMetadata": {
				   "promptTokenCount": usage["promptTokenCount"],
				   "totalTokenCount": usage["promptTokenCount"]},
			       "modelVersion": model, "responseId": resp_id}
			return Response(200, jdump(out, True),
					"application/json; charset=UTF-8")
		if outcome == "noimage":
			# the model answered with text only: not a safety
			# decision, and a new try may well draw an image
			cand = {"content": {"role": "model", "parts": [
				    {"text": "Here is a description of the "
				     "image instead."}]},
				"finishReason": "NO_IMAGE", "index": 0}
			out = {"candidates": [cand], "usageMetadata": {
				   "promptTokenCount": usage["promptTokenCount"],
				   "candidatesTokenCount": 9,
				   "totalTokenCount":
				   usage["promptTokenCount"] + 9},
			       "modelVersion": model, "responseId": resp_id}
			return Response(200, jdump(out, True),
					"application/json; charset=UTF-8")
		ik, mk = ("inline_data", "mime_type") if "snake" in mods \
		    else ("inlineData", "mimeType")
		if outcome == "textonly":
			parts = [{"text": "I can't create that image."}]
			usage["candidatesTokenCount"] = 8
			usage["totalTokenCount"] = usage["promptTokenCount"] + 8
			usage["candidatesTokensDetails"] = [
			    {"modality": "TEXT", "tokenCount": 8}]
		else:
			w, h = self.size_for_ratio(ratio)
			col = self.colour(prompt)
			_, b64 = self.png(w, h, col)
			parts = []
			img = {ik: {mk: "image/png", "data": b64}}
			if "thought" in mods:
				_, tb64 = self.png(w, h, tuple(255 - c for c in col))
				parts.append({ik: {mk: "image/png", "data": tb64},
					      "thought": True})
				img["thoughtSignature"] = base64.b64encode(
				    hashlib.sha256(prompt.encode()).digest()
				).decode()
				usage["thoughtsTokenCount"] = 1120
				usage["totalTokenCount"] += 1120
			parts.append({"text": "Here is the image you asked for."})
			parts.append(img)
		out = {"candidates": [{"content": {"role": "model",
						   "parts": parts},
				       "finishReason": "STOP", "index": 0}],
		       "usageMetadata": usage, "modelVersion": model,
		       "responseId": resp_id}
		return Response(200, jdump(out, True),
				"application/json; charset=UTF-8",
				delivery=outcome if outcome in DELIVERY else None)

	# ---- OpenAI -----------------------------------------------------

	def openai_error(self, status, message, etype, param=None, code=None,
			 headers=None, extra=None):
		err = {"message": message, "type": etype, "param": param,
		       "code": code}
		if extra:
			err.update(extra)
		hdrs = [("x-request-id", "req_%032x" % self.rng.getrandbits(128))]
		hdrs += headers or []
		return Response(status, jdump({"error": err}, True),
				"application/json", hdrs)

	def openai_fault(self, fault, model):
		k, a = fault.outcome, fault.arg
		if k == "unknown":
			return self.openai_error(400, "stub: unknown fault token "
						 "[[fault:%s]]" % a,
						 "invalid_request_error")
		if k.startswith("429"):
			msg = ("Rate limit reached for %s in organization "
			       "org-stub on images per minute (IPM): Limit 5, "
			       "Used 5, Requested 1." % model)
			if k in ("429-ra", "429-radate"):
				msg += " Please try again in %gs." % a
			elif k == "429-ms":
				msg += " Please try again in %gms." % a
			msg += (" Visit https://platform.openai.com/account/"
				"rate-limits to learn more.")
			return self.openai_error(429, msg, "requests", None,
						 "rate_limit_exceeded",
						 self.retry_headers(fault))
		if k in ("quota", "credits"):
			return self.openai_error(
			    429, "You exceeded your current quota, please check "
			    "your plan and billing details. For more "
			    "information on this error, read the docs: "
			    "https://platform.openai.com/docs/guides/"
			    "error-codes/api-errors.", "insufficient_quota",
			    None, "insufficient_quota")
		if k == "502":
			return self.html_error(502)
		table = {
		    400: ("Invalid request (stub fault).",
			  "invalid_request_error", None),
		    401: ("Incorrect API key provided. You can find your API "
			  "key at https://platform.openai.com/account/api-keys.",
			  "invalid_request_error", "invalid_api_key"),
		    403: ("Country, region, or territory not supported",
			  "request_forbidden",
			  "unsupported_country_region_territory"),
		    404: ("The model `%s` does not exist or you do not have "
			  "access to it." % model, "invalid_request_error",
			  "model_not_found"),
		    500: ("The server had an error while processing your "
			  "request. Sorry about that!", "server_error", None),
		    503: ("The server is overloaded or not ready yet.",
			  "service_unavailable_error", "server_is_overloaded"),
		    504: ("Request timed out.", "server_error", "timeout"),
		}
		code = int(k)
		msg, etype, ecode = table[code]
		return self.openai_error(code, msg, etype, None, ecode)

	async def openai_models(self, req, rec, model):
		if model:
			rec["model"] = urllib.parse.unquote(model)
		err = await self.openai_auth(req, rec)
		if err:
			return err
		await asyncio.sleep(self.latency(None))
		if req.method != "GET":
			return self.openai_error(405, "Method not allowed",
						 "invalid_request_error")

		def obj(name):
			return {"id": name, "object": "model",
				"created": 1777777777, "owned_by": "system",
				"shutdown_date": OPENAI_SHUTDOWN.get(name)}
		if not model:
			return Response(200, jdump({"object": "list", "data": [
			    obj(n) for n in OPENAI_MODELS
			    if n not in self.retired]}), "application/json")
		name = rec["model"]
		if name in self.retired:
			return self.openai_error(
			    404, "The model `%s` does not exist or you do not "
			    "have access to it." % name, "invalid_request_error",
			    None, "model_not_found")
		return Response(200, jdump(obj(name)), "application/json")

	async def openai(self, req, rec, edits):
		err = await self.openai_auth(req, rec)
		if err:
			return err
		return await self.openai_images(req, rec, edits)

	async def openai_auth(self, req, rec):
		"""None when the key is accepted, else the answer."""
		rec["auth"] = self.bearer(req)
		if rec["auth"] != "ok":
			await asyncio.sleep(self.latency(None))
			if rec["auth"] == "missing":
				msg = ("You didn't provide an API key. You need to "
				       "provide your API key in an Authorization "
				       "header using Bearer auth (i.e. "
				       "Authorization: Bearer YOUR_KEY), or as the "
				       "password field (with blank username) if "
				       "you're accessing the API from your browser "
				       "and are prompted for a username and "
				       "password. You can obtain an API key from "
				       "https://platform.openai.com/account/"
				       "api-keys.")
			else:
				msg = ("Incorrect API key provided. You can find "
				       "your API key at https://platform.openai."
				       "com/account/api-keys.")
			return self.openai_error(401, msg, "invalid_request_error",
						 None, "invalid_api_key")
		return None

	async def openai_images(self, req, rec, edits):
		def bad(msg, param=None, code=None):
			return self.openai_error(400, msg, "invalid_request_error",
						 param, code)
		ctype = req.headers.get("content-type", "")
		main, _ = header_params(ctype)
		images = rec["images"]
		fields = rec["fields"]
		if main == "multipart/form-data":
			try:
				parts = parse_multipart(req.body, ctype)
			except ValueError as e:
				return bad("Could not parse multipart form: %s" % e)
			params = {}
			n_img = 0
			for part in parts:
				isimg = re.match(r"^image(\[\d*\])?$", part.name)
				if isimg or part.name == "mask":
					if part.filename is None:
						return bad("Invalid type for '%s': "
							   "expected a file, but got "
							   "a string instead." %
							   part.name, part.name,
							   "invalid_type")
					pmime = (part.ctype or "").split(";")[0] \
					    .strip().lower()
					ent = image_entry(part.data, pmime or None,
							  field=part.name,
							  filename=part.filename)
					images.append(ent)
					if pmime not in IMAGE_MIMES:
						return bad(
						    "Invalid file '%s': unsupported "
						    "mimetype ('%s'). Supported file "
						    "formats are 'image/jpeg', "
						    "'image/png', and 'image/webp'."
						    % (part.name, pmime or
						       "text/plain"), part.name,
						    "unsupported_file_mimetype")
					if sniff(part.data) is None:
						return bad(
						    "Invalid image file or mode for "
						    "image %d, please check your "
						    "image file." % (n_img + 1),
						    part.name, "invalid_image_file")
					if isimg:
						n_img += 1
				elif part.filename is not None:
					fields[part.name] = {
					    "filename": part.filename,
					    "bytes": len(part.data)}
				else:
					params[part.name] = part.data.decode(
					    "utf-8", "replace")
			if edits and n_img == 0:
				return bad("Missing required parameter: 'image'.",
					   "image", "missing_required_parameter")
		elif main == "application/json" or not ctype:
			try:
				params = json.loads(req.body)
			except (ValueError, UnicodeDecodeError):
				return bad("We could not parse the JSON body of your "
					   "request. (HINT: This likely means you "
					   "aren't using your HTTP library "
					   "correctly. The OpenAI API expects a JSON "
					   "payload, but what was sent was not valid "
					   "JSON.")
			if not isinstance(params, dict):
				return bad("Invalid type for body: expected an "
					   "object.", None, "invalid_type")
			if edits:
				refs = params.pop("images", None)
				if not isinstance(refs, list) or not refs:
					return bad("Missing required parameter: "
						   "'images'.", "images",
						   "missing_required_parameter")
				for i, ref in enumerate(refs):
					url = ref.get("image_url") \
					    if isinstance(ref, dict) else None
					fid = ref.get("file_id") \
					    if isinstance(ref, dict) else None
					if isinstance(url, str) and \
					    url.startswith("data:"):
						try:
							m, raw = parse_data_url(url)
						except ValueError as e:
							return bad(
							    "Invalid image_url for "
							    "images[%d]: %s" % (i, e),
							    "images[%d].image_url" % i,
							    "invalid_image_url")
						images.append(image_entry(
						    raw, m, field="images[%d]" % i,
						    source="data_url"))
						if sniff(raw) is None:
							return bad(
							    "Invalid image file or mode "
							    "for image %d, please check "
							    "your image file." % (i + 1),
							    "images[%d]" % i,
							    "invalid_image_file")
					elif isinstance(url, str):
						images.append({"url": clip(url),
							       "source": "url"})
					elif isinstance(fid, str):
						images.append({"file_id": fid,
							       "source": "file_id"})
					else:
						return bad("Invalid value for "
							   "images[%d]: expected "
							   "image_url or file_id." % i,
							   "images[%d]" % i,
							   "invalid_value")
		else:
			return bad("Unsupported content type: '%s'. This API "
				   "method only accepts 'application/json' and "
				   "'multipart/form-data' requests." % main)

		prompt = params.pop("prompt", None)
		for k, v in params.items():
			if isinstance(v, (str, int, float, bool)) or v is None:
				fields[k] = clip(v)
			else:
				fields[k] = clip(json.dumps(v))
		# the documented default of generations, dall-e-2, is shut
		# down: answer as the edits default does
		model = params.get("model") or "gpt-image-1.5"
		rec["model"] = model
		if model in self.retired:
			await asyncio.sleep(self.latency(None))
			return self.openai_error(
			    404, "The model `%s` does not exist or you do not "
			    "have access to it." % model, "invalid_request_error",
			    None, "model_not_found")
		if edits and "moderation" in params:
			# CreateImageEditRequest has no moderation field
			return bad("Unknown parameter: 'moderation'.",
				   "moderation", "unknown_parameter")
		if not isinstance(prompt, str) or not prompt:
			return bad("Missing required parameter: 'prompt'.",
				   "prompt", "missing_required_parameter")
		rec["prompt"] = prompt
		n = params.get("n", 1)
		try:
			n = int(n)
			if not 1 <= n <= 10:
				raise ValueError
		except (ValueError, TypeError):
			return bad("Invalid value for 'n': expected an integer "
				   "between 1 and 10.", "n", "invalid_value")
		size = params.get("size") or "auto"
		wh = None
		if size in OPENAI_SIZES:
			wh = (1024, 1024) if size == "auto" else \
			    tuple(int(x) for x in size.split("x"))
		else:
			mm = re.match(r"^(\d+)x(\d+)$", str(size))
			if mm and int(mm.group(1)) % 16 == 0 and \
			    int(mm.group(2)) % 16 == 0 and \
			    0 < int(mm.group(1)) <= 3840 and \
			    0 < int(mm.group(2)) <= 3840:
				wh = (int(mm.group(1)), int(mm.group(2)))
		if wh is None:
			return bad("Invalid value: '%s'. Supported values are: "
				   "'1024x1024', '1024x1536', '1536x1024', and "
				   "'auto'." % (size,), "size", "invalid_value")

		fault = self.select_faults(prompt, prompt)
		rec["fault"] = fault.describe() if fault else None
		await asyncio.sleep(self.latency(fault))
		outcome = fault.outcome if fault else None
		if outcome in ("failed", "canceled"):
			outcome = None
		if outcome == "noimage":
			outcome = "textonly"
		if outcome in ("blocked", "blocked-finish"):
			return self.openai_error(
			    400, "Your request was rejected by the safety system. "
			    "If you believe this is an error, contact us at "
			    "help.openai.com and include the request ID. "
			    "safety_violations=[sexual].",
			    "image_generation_user_error", None,
			    "moderation_blocked",
			    extra={"moderation_details": {
				"moderation_stage": "output",
				"categories": ["sexual"]}})
		if outcome is not None and outcome not in DELIVERY and \
		    outcome != "textonly":
			return self.openai_fault(fault, model)
		data = []
		if outcome != "textonly":
			w, h = self.size_for_wxh(*wh)
			for i in range(n):
				col = self.colour(prompt, "" if i == 0
						  else "\x00%d" % i)
				data.append({"b64_json": self.png(w, h, col)[1]})
		ptoks = max(1, len(prompt) // 4)
		itoks = 323 * len(images)
		otoks = 1056 * len(data)
		q = params.get("quality") or "auto"
		out = {"created": int(time.time()), "data": data,
		       "background": params.get("background") or "opaque",
		       "output_format": params.get("output_format") or "png",
		       "size": "%dx%d" % wh,
		       "quality": "medium" if q == "auto" else q,
		       "usage": {"total_tokens": ptoks + itoks + otoks,
				 "input_tokens": ptoks + itoks,
				 "output_tokens": otoks,
				 "input_tokens_details": {
				     "text_tokens": ptoks,
				     "image_tokens": itoks},
				 "output_tokens_details": {
				     "image_tokens": otoks,
				     "text_tokens": 0}}}
		hdrs = [("x-request-id", "req_%032x" % self.rng.getrandbits(128)),
			("openai-processing-ms",
			 "%d" % ((time.time() - req.t0) * 1000)),
			("openai-version", "2020-10-01")]
		return Response(200, jdump(out, True), "application/json", hdrs,
				outcome if outcome in DELIVERY else None)

	# ---- Replicate --------------------------------------------------

	def problem(self, status, title, detail, headers=None, extra=None):
		body = {"title": title, "detail": detail, "status": status}
		if extra:
			body.update(extra)
		return Response(status, jdump(body), "application/json",
				headers)

	def replicate_fault(self, fault):
		k, a = fault.outcome, fault.arg
		if k == "unknown":
			return self.problem(400, "Bad Request", "stub: unknown "
					    "fault token [[fault:%s]]" % a)
		if k.startswith("429"):
			s = a if k in ("429-ra", "429-radate") else \
			    (a / 1000.0 if k == "429-ms" else 30)
			return self.problem(429, "Request was throttled",
					    "Request was throttled. Your rate "
					    "limit resets in ~%gs." % s,
					    self.retry_headers(fault))
		if k in ("quota", "credits"):
			return self.problem(402, "Insufficient credit",
					    "You have insufficient credit to run "
					    "this model. Go to https://replicate."
					    "com/account/billing#billing to "
					    "purchase credit. Once you purchase "
					    "credit, please wait a few minutes "
					    "before trying again.")
		if k == "502":
			return self.html_error(502)
		table = {400: ("Bad Request", "Bad request (stub fault)."),
			 401: ("Unauthenticated", "You did not pass a valid "
			       "authentication token"),
			 403: ("Forbidden", "You do not have permission to "
			       "perform this action."),
			 404: ("Not found", "The requested resource could not "
			       "be found."),
			 500: ("Internal Server Error", "An unexpected error "
			       "occurred."),
			 503: ("Service Unavailable", "The service is "
			       "temporarily unavailable. Please try again "
			       "later."),
			 504: ("Gateway Timeout", "The server did not respond in "
			       "time.")}
		code = int(k)
		return self.problem(code, *table[code])

	def pred_status(self, p, now=None):
		if now is None:
			now = asyncio.get_running_loop().time()
		if p.canceled_at is None and p.cancel_at is not None and \
		    now >= p.cancel_at and now - p.t0 < p.runtime - 0.002:
			# Cancel-After ran out before the prediction ended
			p.canceled_at = p.wall0 + (p.cancel_at - p.t0)
		if p.canceled_at is not None:
			return "canceled"
		el = now - p.t0
		if el >= p.runtime - 0.002:
			return p.end
		if el >= 0.2 * p.runtime:
			return "processing"
		return "starting"

	def pred_json(self, p, base):
		st = self.pred_status(p)
		out = {"id": p.id, "model": p.model, "version": p.version,
		       "input": p.input, "logs": "", "output": None,
		       "data_removed": False, "error": None, "status": st,
		       "source": "api", "created_at": iso(p.wall0),
		       "urls": {"cancel": "%s/v1/predictions/%s/cancel" % (
				    base, p.id),
				"get": "%s/v1/predictions/%s" % (base, p.id),
				"web": "https://replicate.com/p/%s" % p.id}}
		if st != "starting":
			out["started_at"] = iso(p.wall0 + 0.2 * p.runtime)
			out["logs"] = "Using seed: 42\nGenerating image...\n"
		if st in ("succeeded", "failed", "canceled"):
			done = p.wall0 + p.runtime
			if st == "canceled" and p.canceled_at is not None:
				done = p.canceled_at
				if done < p.wall0 + 0.2 * p.runtime:
					out.pop("started_at", None)
			out["completed_at"] = iso(done)
			if st == "succeeded":
				out["output"] = p.output and (base + p.output)
				out["metrics"] = {
				    "predict_time": round(0.8 * p.runtime, 6),
				    "total_time": round(p.runtime, 6)}
			elif st == "failed":
				out["error"] = p.error
				out["logs"] += p.error + "\n"
		return out

	def resolve_local(self, url, req):
		"""Bytes behind a URL that points at this stub, else None."""
		u = urllib.parse.urlsplit(url)
		hosts = {"127.0.0.1:%d" % self.port, "localhost:%d" % self.port,
			 req.headers.get("host", "")}
		if u.scheme not in ("http", "https") or u.netloc not in hosts:
			return None
		path = urllib.parse.unquote(u.path)
		m = re.match(r"^/v1/files/([^/]+?)(?:/download)?$", path)
		if m:
			f = self.files.get(m.group(1))
			return f["data"] if f else b""
		if path.startswith("/static/") and self.static_root:
			fp = self.static_path(path[len("/static/"):])
			if fp and os.path.isfile(fp):
				with open(fp, "rb") as fh:
					return fh.read()
			return b""
		m = re.match(r"^/replicate/files/([^/.]+)\.png$", path)
		if m:
			p = self.predictions.get(m.group(1))
			if p and p.output and self.pred_status(p) == "succeeded":
				return self.png(p.w, p.h, p.colour)[0]
			return b""
		return None

	async def replicate(self, req, rec):
		p, m = req.path, req.method
		mm = re.match(r"^/replicate/files/([^/.]+)\.png$", p)
		if mm:
			rec["auth"] = self.sent_auth(req)
			if m not in ("GET", "HEAD"):
				return self.problem(405, "Method not allowed",
						    "Method not allowed.")
			pr = self.predictions.get(mm.group(1))
			rec["id"] = mm.group(1)
			if pr is None or not pr.output or \
			    self.pred_status(pr) != "succeeded":
				return Response(404, b"Not Found\n", "text/plain")
			rec["model"] = pr.model
			data = self.png(pr.w, pr.h, pr.colour)[0]
			return Response(200, data, "image/png",
					[("Cache-Control", "public, max-age=3600")])
		rec["auth"] = self.bearer(req, ("bearer", "token"))
		if rec["auth"] != "ok":
			return self.problem(401, "Unauthenticated",
					    "You did not pass a valid "
					    "authentication token")
		mm = re.match(r"^/v1/models/([^/]+)/([^/]+)$", p)
		if mm:
			name = mm.group(1) + "/" + mm.group(2)
			rec["model"] = name
			if m != "GET":
				return self.problem(405, "Method not allowed",
						    "Method not allowed.")
			if name in self.retired:
				return self.problem(404, "Not found",
						    "The requested resource could "
						    "not be found.")
			base = "https://replicate.com/" + name
			return Response(200, jdump({
			    "url": base, "owner": mm.group(1),
			    "name": mm.group(2), "visibility": "public",
			    "description": "stub model", "run_count": 1,
			    "latest_version": {"id": hashlib.sha256(
				name.encode()).hexdigest()}}), "application/json")
		mm = re.match(r"^/v1/(models|deployments)/([^/]+)/([^/]+)/"
			      r"predictions$", p)
		if mm and mm.group(2) + "/" + mm.group(3) in self.retired:
			rec["model"] = mm.group(2) + "/" + mm.group(3)
			return self.problem(404, "Not found", "The requested "
					    "resource could not be found.")
		if mm:
			if m != "POST":
				return self.problem(405, "Method not allowed",
						    "Method not allowed.")
			return await self.replicate_create(
			    req, rec, mm.group(2) + "/" + mm.group(3))
		if p == "/v1/predictions":
			if m == "POST":
				return await self.replicate_create(req, rec, None)
			if m == "GET":
				return self.replicate_list(req)
			return self.problem(405, "Method not allowed",
					    "Method not allowed.")
		mm = re.match(r"^/v1/predictions/([^/]+)(/cancel)?$", p)
		if mm:
			rec["id"] = mm.group(1)
			pr = self.predictions.get(mm.group(1))
			if pr is None:
				return self.problem(404, "Not found",
						    "The requested resource could "
						    "not be found.")
			rec["model"] = pr.model
			if mm.group(2):
				if m != "POST":
					return self.problem(405, "Method not "
							    "allowed", "Method not "
							    "allowed.")
				if self.pred_status(pr) in ("starting",
							    "processing"):
					pr.canceled_at = time.time()
			elif m not in ("GET", "HEAD"):
				return self.problem(405, "Method not allowed",
						    "Method not allowed.")
			st = self.pred_json(pr, self.base_url(req))
			rec["fields"]["status"] = st["status"]
			return Response(200, jdump(st), "application/json")
		if p == "/v1/files":
			if m == "POST":
				return self.replicate_upload(req, rec)
			if m == "GET":
				base = self.base_url(req)
				res = [self.file_json(f, base) for f in
				       reversed(list(self.files.values()))]
				return Response(200, jdump({"results": res[:100],
							    "next": None,
							    "previous": None}),
						"application/json")
			return self.problem(405, "Method not allowed",
					    "Method not allowed.")
		mm = re.match(r"^/v1/files/([^/]+)(/download)?$", p)
		if mm:
			rec["id"] = mm.group(1)
			f = self.files.get(mm.group(1))
			if f is None:
				return self.problem(404, "Not found",
						    "The requested resource could "
						    "not be found.")
			if m == "DELETE":
				del self.files[mm.group(1)]
				return Response(204)
			if m not in ("GET", "HEAD"):
				return self.problem(405, "Method not allowed",
						    "Method not allowed.")
			return Response(200, f["data"], f["content_type"])
		return self.problem(404, "Not found",
				    "The requested resource could not be found.")

	def replicate_list(self, req):
		q = dict(urllib.parse.parse_qsl(req.query))
		try:
			off = max(0, int(q.get("cursor", "0")))
		except ValueError:
			off = 0
		base = self.base_url(req)
		ids = list(reversed(self.predictions.keys()))
		page = ids[off:off + 100]
		nxt = None
		if off + 100 < len(ids):
			nxt = "%s/v1/predictions?cursor=%d" % (base, off + 100)
		prev = None
		if off > 0:
			prev = "%s/v1/predictions?cursor=%d" % (
			    base, max(0, off - 100))
		res = [self.pred_json(self.predictions[i], base) for i in page]
		return Response(200, jdump({"next": nxt, "previous": prev,
					    "results": res}),
				"application/json")

	def file_json(self, f, base):
		return {"id": f["id"], "name": f["name"],
			"content_type": f["content_type"], "size": f["size"],
			"etag": f["md5"], "checksums": {"sha256": f["sha256"],
							"md5": f["md5"]},
			"metadata": f["metadata"],
			"created_at": iso(f["created"]),
			"expires_at": iso(f["created"] + 86400),
			"urls": {"get": "%s/v1/files/%s" % (base, f["id"])}}

	def replicate_upload(self, req, rec):
		try:
			parts = parse_multipart(req.body,
						req.headers.get("content-type"))
		except ValueError as e:
			return self.problem(400, "Bad Request", "Could not parse "
					    "multipart form: %s" % e)
		content, meta, name, ctype = None, {}, None, None
		for part in parts:
			if part.name == "content":
				content = part
			elif part.name == "metadata":
				try:
					meta = json.loads(part.data)
				except ValueError:
					return self.problem(
					    422, "Invalid metadata",
					    "metadata must be a JSON object")
			elif part.name == "filename":
				name = part.data.decode("utf-8", "replace")
			elif part.name == "type":
				ctype = part.data.decode("utf-8", "replace")
			else:
				rec["fields"][part.name] = clip(
				    part.data[:200].decode("utf-8", "replace"))
		if content is None:
			return self.problem(422, "Input validation failed",
					    "Missing required multipart field: "
					    "content", extra={"invalid_fields": [
						{"type": "required",
						 "field": "content",
						 "description": "content is "
						 "required"}]})
		data = content.data
		ctype = ctype or (content.ctype or "").split(";")[0].strip() \
		    or sniff(data) or "application/octet-stream"
		name = name or content.filename or "file"
		fid = self.rand_id()
		rec["id"] = fid
		rec["images"].append(image_entry(data, ctype, filename=name,
						 field="content"))
		f = {"id": fid, "name": name, "content_type": ctype,
		     "size": len(data), "data": data,
		     "sha256": hashlib.sha256(data).hexdigest(),
		     "md5": hashlib.md5(data).hexdigest(),
		     "metadata": meta, "created": time.time()}
		self.files[fid] = f
		return Response(201, jdump(self.file_json(f, self.base_url(req))),
				"application/json")

	async def replicate_create(self, req, rec, model):
		def invalid(field, desc, typ="invalid"):
			return self.problem(422, "Input validation failed",
					    "%s: %s" % (field, desc),
					    extra={"invalid_fields": [
						{"type": typ, "field": field,
						 "description": desc}]})
		try:
			body = json.loads(req.body)
		except (ValueError, UnicodeDecodeError):
			return self.problem(400, "Bad Request",
					    "The request body is not valid JSON.")
		if not isinstance(body, dict):
			return self.problem(400, "Bad Request",
					    "The request body must be a JSON "
					    "object.")
		allowed = {"input", "webhook", "webhook_events_filter", "stream"}
		if model is None:
			allowed.add("version")
		for k in body:
			if k not in allowed:
				return invalid(k, "Additional property %s is not "
					       "allowed" % k,
					       "additional_property_not_allowed")
		version = "hidden"
		if model is None:
			version = body.get("version")
			if not isinstance(version, str) or not version:
				return invalid("version", "version is required",
					       "required")
			vm, _, vh = version.partition(":")
			if "/" in vm:
				model, version = vm, (vh or "hidden")
			else:
				model = "unknown/unknown"
		rec["model"] = model
		inp = body.get("input")
		if not isinstance(inp, dict):
			return invalid("input", "input is required", "required")
		rec["input_keys"] = sorted(inp.keys())
		prefer = req.headers.get("prefer")
		wait = None
		if prefer is not None:
			pm = re.match(r"^wait(=([1-9]|[1-9][0-9]))?$",
				      prefer.strip())
			if not pm or (pm.group(2) and int(pm.group(2)) > 60):
				return self.problem(400, "Invalid Prefer header",
						    "Prefer header must match "
						    "^wait(=([1-9]|[1-9][0-9]|60))?$")
			wait = float(pm.group(2)) if pm.group(2) else 60.0
		prompt = inp.get("prompt")
		if not isinstance(prompt, str) or not prompt:
			return invalid("input.prompt", "prompt is required",
				       "required")
		rec["prompt"] = prompt
		fields = rec["fields"]
		echo = {}
		missing = []
		for k, v in inp.items():
			vals = v if isinstance(v, list) else [v]
			echoed = []
			for i, s in enumerate(vals):
				where = k if not isinstance(v, list) else \
				    "%s[%d]" % (k, i)
				if isinstance(s, str) and s.startswith("data:"):
					try:
						mime, raw = parse_data_url(s)
					except ValueError as e:
						return invalid("input." + where,
							       str(e))
					rec["images"].append(image_entry(
					    raw, mime, field=where,
					    source="data_url"))
					if sniff(raw) is None:
						return invalid(
						    "input." + where, "Could not "
						    "identify the image file "
						    "(not PNG, JPEG or WebP)")
					echoed.append(s if len(s) <= 1024 else
						      s[:64] + "...")
				elif isinstance(s, str) and re.match(
				    r"^https?://", s):
					raw = self.resolve_local(s, req)
					ent = {"url": clip(s), "field": where,
					       "source": "url"}
					if raw:
						ent.update(image_entry(raw))
					elif raw is not None:
						ent["found"] = False
						missing.append(s)
					rec["images"].append(ent)
					echoed.append(s)
				else:
					echoed.append(s)
					if k != "prompt" and not isinstance(
					    v, (list, dict)):
						fields[k] = clip(s)
			echo[k] = echoed if isinstance(v, list) else echoed[0]
		if prefer is not None:
			fields["prefer"] = prefer
		ratio = inp.get("aspect_ratio", "1:1")
		if ratio == "match_input_image":
			ratio = "1:1"
		if ratio not in RATIOS:
			return invalid("input.aspect_ratio", "aspect_ratio must "
				       "be one of the following: %s" % ", ".join(
					   ["match_input_image"] + list(RATIOS)),
				       "enum")

		fault = self.select_faults(prompt, prompt)
		rec["fault"] = fault.describe() if fault else None
		outcome = fault.outcome if fault else None
		if outcome in ("thought", "snake", "array-error"):
			outcome = None
		if outcome == "noimage":
			outcome = "textonly"
		if outcome is not None and outcome not in DELIVERY and \
		    outcome not in ("textonly", "blocked", "blocked-finish",
				    "failed", "canceled"):
			return self.replicate_fault(fault)

		loop = asyncio.get_running_loop()
		pr = Prediction()
		pr.id = self.rand_id()
		pr.model, pr.version, pr.input = model, version, echo
		pr.t0, pr.wall0 = loop.time(), time.time()
		pr.runtime = self.latency(fault)
		pr.canceled_at = None
		ca = req.headers.get("cancel-after")
		if ca is not None and (parse_duration(ca) is None or
				       parse_duration(ca) < 5):
			return self.problem(400, "Bad Request", "Invalid "
					    "Cancel-After header: want a duration "
					    "of at least 5s, such as 5m or 1h30m")
		pr.cancel_at = pr.t0 + parse_duration(ca) if ca else None
		pr.end, pr.error = "succeeded", None
		pr.w, pr.h = self.size_for_ratio(ratio)
		pr.colour = self.colour(prompt)
		pr.output = "/replicate/files/%s.png" % pr.id
		if outcome in ("blocked", "blocked-finish"):
			pr.end, pr.output = "failed", None
			pr.error = "NSFW content detected. Try running it again, " \
			    "or try a different prompt."
		elif outcome == "failed":
			pr.end, pr.output = "failed", None
			pr.error = "Prediction failed: stub fault injected " \
			    "(model raised an exception)"
		elif outcome == "canceled":
			pr.end, pr.output = "canceled", None
		elif outcome == "textonly":
			pr.output = None
		elif missing:
			pr.end, pr.output = "failed", None
			pr.error = "Failed to download input file: %s" % \
			    clip(missing[0], 100)
		self.predictions[pr.id] = pr
		if len(self.predictions) > MAX_PREDICTIONS:
			self.predictions.popitem(last=False)
		rec["id"] = pr.id

		if wait is not None:
			deadline = pr.t0 + min(pr.runtime, wait)
			while self.pred_status(pr) in ("starting", "processing"):
				left = deadline - loop.time()
				if left <= 0:
					break
				await asyncio.sleep(min(left, 0.25))
		st = self.pred_json(pr, self.base_url(req))
		rec["fields"]["status"] = st["status"]
		delivery = outcome if outcome in DELIVERY else None
		return Response(201, jdump(st), "application/json",
				[("Location", st["urls"]["get"])], delivery)

	# ---- static -----------------------------------------------------

	def static_path(self, rel):
		rel = urllib.parse.unquote(rel)
		if "\x00" in rel or rel.startswith("/") or "\\" in rel:
			return None
		if any(seg == ".." for seg in rel.split("/")):
			return None
		full = os.path.realpath(os.path.join(self.static_root, rel))
		if not full.startswith(self.static_root + os.sep):
			return None
		return full

	async def static(self, req, rec):
		resp, outcome = await self.static_answer(req, rec)
		if outcome in DELIVERY:
			resp.delivery = outcome
		return resp

	async def static_answer(self, req, rec):
		rec["auth"] = self.sent_auth(req)
		if req.method not in ("GET", "HEAD"):
			return Response(405, b"method not allowed\n", "text/plain",
					[("Allow", "GET, HEAD")]), None
		q = urllib.parse.parse_qsl(req.query)
		spec = "".join("[[fault:%s]]" % v for k, v in q if k == "fault")
		fault = self.select_faults(req.path + "?" + spec, spec) \
		    if spec else None
		rec["fault"] = fault.describe() if fault else None
		if fault is not None:
			await asyncio.sleep(self.latency(fault))
		elif self.args.static_latency:
			await asyncio.sleep(self.latency(None))
		outcome = fault.outcome if fault else None
		if outcome is not None and outcome not in DELIVERY:
			if outcome == "unknown":
				return Response(400, b"unknown fault\n",
						"text/plain"), outcome
			code = 429 if outcome.startswith("429") else \
			    int(outcome) if outcome.isdigit() else 500
			return Response(code, ("%d %s\n" % (
			    code, REASONS.get(code, ""))).encode(),
			    "text/plain", self.retry_headers(fault)), outcome
		if self.static_root is None:
			return Response(404, b"no --static directory\n",
					"text/plain"), outcome
		rel = req.path[len("/static/"):]
		full = self.static_path(rel)
		if full is None:
			return Response(403, b"forbidden\n", "text/plain"), outcome
		try:
			with open(full, "rb") as fh:
				data = fh.read()
		except (IsADirectoryError, FileNotFoundError,
			NotADirectoryError):
			return Response(404, b"not found\n", "text/plain"), outcome
		except OSError as e:
			return Response(403, ("%s\n" % e.strerror).encode(),
					"text/plain"), outcome
		ext = os.path.splitext(full)[1].lower()
		ctype = STATIC_TYPES.get(ext, "application/octet-stream")
		rec["images"].append(image_entry(data, None))
		return Response(200, data, ctype), outcome


def parse_args(argv):
	ap = argparse.ArgumentParser(
	    prog="bg-stub.py", description="Loopback HTTP/1.1 server speaking "
	    "Gemini, OpenAI Images and Replicate, with fault injection.")
	ap.add_argument("--port", type=int, default=0,
			help="TCP port on 127.0.0.1 (0 = pick a free one)")
	ap.add_argument("--port-file", help="write the chosen port here "
			"(atomically) once listening")
	ap.add_argument("--log", help="NDJSON request log, one line per "
			"request")
	ap.add_argument("--latency-ms", type=float, default=0.0)
	ap.add_argument("--latency-dist", choices=("fixed", "uniform"),
			default="fixed")
	ap.add_argument("--static-latency", action="store_true",
			help="apply --latency-ms to /static answers too")
	ap.add_argument("--seed", type=int, default=0)
	ap.add_argument("--static", help="serve files under GET /static/")
	ap.add_argument("--image-size", help="WxH of every generated image")
	ap.add_argument("--image-noise", action="store_true",
			help="random pixels, as large as photos (benchmarks)")
	ap.add_argument("--workers", type=int, default=1,
			help="processes answering on the port (benchmarks: "
			"each keeps its own state)")
	ap.add_argument("--retired", default=RETIRED,
			help="comma-separated model names answered as shut "
			"down ('' for none)")
	args = ap.parse_args(argv)
	if not 0 <= args.port <= 65535:
		ap.error("--port: out of range")
	if args.latency_ms < 0:
		ap.error("--latency-ms: must be >= 0")
	if args.image_size:
		m = re.match(r"^(\d+)x(\d+)$", args.image_size)
		if not m or not (0 < int(m.group(1)) <= 16384) or \
		    not (0 < int(m.group(2)) <= 16384):
			ap.error("--image-size: want WxH, e.g. 64x64")
		args.image_size = (int(m.group(1)), int(m.group(2)))
	if not 1 <= args.workers <= 64:
		ap.error("--workers: want 1 to 64")
	if args.workers > 1 and args.log:
		ap.error("--log: one process only (--workers 1)")
	if args.static and not os.path.isdir(args.static):
		ap.error("--static: %s: not a directory" % args.static)
	return args


def raise_nofile():
	try:
		soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
		want = hard if hard != resource.RLIM_INFINITY else 65536
		if soft < want:
			resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
	except (ValueError, OSError):
		pass


async def main_async(args, sock=None):
	stub = Stub(args)
	if sock is not None:
		server = await asyncio.start_server(stub.handle_conn, sock=sock,
						    limit=MAX_HEAD)
	else:
		server = await asyncio.start_server(stub.handle_conn,
						    "127.0.0.1", args.port,
						    limit=MAX_HEAD,
						    backlog=4096,
						    reuse_address=True)
	stub.port = server.sockets[0].getsockname()[1]
	if args.port_file:
		tmp = "%s.tmp.%d" % (args.port_file, os.getpid())
		with open(tmp, "w") as fh:
			fh.write("%d\n" % stub.port)
		os.replace(tmp, args.port_file)
	stop = asyncio.Event()
	loop = asyncio.get_running_loop()
	for sig in (signal.SIGTERM, signal.SIGINT):
		loop.add_signal_handler(sig, stop.set)
	await stop.wait()
	stub.stopping = True
	server.close()
	for t in list(stub.conn_tasks):
		t.cancel()
	if stub.conn_tasks:
		await asyncio.wait(list(stub.conn_tasks), timeout=2)
	if stub.log is not None:
		stub.log.close()


def listener(port):
	"""A listening socket on 127.0.0.1:port that other processes may
	bind too (SO_REUSEPORT: the kernel spreads connections over them)."""
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
	s.bind(("127.0.0.1", port))
	s.listen(4096)
	s.setblocking(False)
	return s


def workers(args):
	"""--workers N: N - 1 more processes, each with its own socket on
	the same port, its own state (uploads, predictions, batches, fault
	counts: only stateless requests belong here) and latency seed; they
	end with the first one.  Returns (this process's socket, children)."""
	sock = listener(args.port)
	args.port = sock.getsockname()[1]
	first = os.getpid()
	kids = []
	for i in range(1, args.workers):
		pid = os.fork()
		if pid == 0:
			sock.close()
			try:
				import ctypes
				ctypes.CDLL(None).prctl(1, signal.SIGTERM)
			except (OSError, AttributeError):
				pass
			if os.getppid() != first:	# it ended before prctl
				os._exit(0)
			args.port_file = None
			args.seed += i
			return listener(args.port), []
		kids.append(pid)
	return sock, kids


def main(argv):
	args = parse_args(argv)
	raise_nofile()
	sock, kids = None, []
	try:
		if args.workers > 1:
			sock, kids = workers(args)
		asyncio.run(main_async(args, sock))
	except OSError as e:
		warn(str(e))
		return 1
	finally:
		for pid in kids:
			try:
				os.kill(pid, signal.SIGTERM)
				os.waitpid(pid, 0)
			except OSError:
				pass
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
