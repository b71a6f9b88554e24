"""Python's http.server as an HTTP/1.1 target for protospec's http1 suite.

    python3 server.py DOCROOT PLAIN_PORT TLS_PORT CERT KEY

SimpleHTTPRequestHandler serves DOCROOT (GET and HEAD) on 127.0.0.1, plain
and TLS, with HTTP/1.1 persistent connections (protocol_version); the only
addition is GET /redirect, 301 to /hello.txt. What is judged is
http.server's own parsing and answers.
"""
import functools
import http.server
import ssl
import sys
import threading

docroot, plain_port, tls_port, cert, key = sys.argv[1:6]


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    extensions_map = {
        ".html": "text/html",
        ".txt": "text/plain",
        ".bin": "application/octet-stream",
        "": "application/octet-stream",
    }

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/redirect":
            body = b"moved to /hello.txt\n"
            self.send_response(301)
            self.send_header("Location", "/hello.txt")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format, *args):
        pass


handler = functools.partial(Handler, directory=docroot)
plain = http.server.ThreadingHTTPServer(("127.0.0.1", int(plain_port)), handler)
tls = http.server.ThreadingHTTPServer(("127.0.0.1", int(tls_port)), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
threading.Thread(target=tls.serve_forever, daemon=True).start()
plain.serve_forever()
