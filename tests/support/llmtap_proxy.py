"""Reaching an authenticated `llmtap proxy` the way a user does, for every Python test and benchmark.

`llmtap proxy` prints `listening ADDR` and then `credential PATH` on stdout; the credential is the
content of PATH. Forward-proxy clients put it in the proxy URL's userinfo (sent as
Proxy-Authorization), gateway clients in a /t/CREDENTIAL segment before the route.
"""
import base64


class ProxyBanner:
    def __init__(self, address, credential, credential_path):
        self.address = address                  # "127.0.0.1:PORT"
        self.port = int(address.rsplit(":", 1)[1])
        self.credential = credential            # "" when started with --no-auth
        self.credential_path = credential_path

    @property
    def proxy_url(self):
        """For HTTPS_PROXY / --proxy / httpx proxies=."""
        if not self.credential:
            return "http://" + self.address
        return "http://llmtap:%s@%s" % (self.credential, self.address)

    @property
    def gateway_prefix(self):
        """Path prefix of the gateway routes: "/t/CREDENTIAL" (then /openai/v1/...)."""
        return "/t/" + self.credential if self.credential else ""

    @property
    def gateway_base(self):
        return "http://" + self.address + self.gateway_prefix

    @property
    def proxy_authorization(self):
        """Header value for raw CONNECT / absolute-form requests."""
        return "Basic " + base64.b64encode(("llmtap:" + self.credential).encode()).decode()


def read_banner(stdout, auth=True):
    """Reads the banner lines from a `llmtap proxy` stdout pipe. Raises RuntimeError when they are not there."""
    line = stdout.readline().decode().strip()
    if not line.startswith("listening "):
        raise RuntimeError("expected 'listening ADDR', got %r" % line)
    address = line.split(" ", 1)[1]
    if not auth:
        return ProxyBanner(address, "", "")
    return read_credential(stdout, address)


def read_credential(stdout, address):
    """The `credential PATH` line that follows `listening ADDR` (for callers that read that one)."""
    line = stdout.readline().decode().strip()
    if not line.startswith("credential "):
        raise RuntimeError("expected 'credential PATH', got %r" % line)
    path = line.split(" ", 1)[1]
    with open(path) as f:
        return ProxyBanner(address, f.read().strip(), path)
