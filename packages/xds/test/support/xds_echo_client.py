"""A gRPC C-core xDS client (Debian's python3-grpcio) for the router's tests.

Dials xds:///TARGET with the bootstrap named by GRPC_XDS_BOOTSTRAP, sends COUNT unary calls to
the echo servers' raw-bytes method, and prints one JSON line: answers per server, failures and
the first few error messages. Exit code 0 even when calls fail: the test decides.
With a fourth argument `hold`, the channel stays open after that line until stdin closes, so its
load reports (LRS) keep flowing until the test has seen them.
"""
import json
import sys

import grpc

WHO_PATH = "/spillway.test.Echo/Who"


def main() -> None:
    target, count, deadline = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    hold = len(sys.argv) > 4 and sys.argv[4] == "hold"
    answers: dict[str, int] = {}
    errors: list[str] = []
    with grpc.insecure_channel(f"xds:///{target}") as channel:
        who = channel.unary_unary(WHO_PATH, request_serializer=None, response_deserializer=None)
        for _ in range(count):
            try:
                name = who(b"", timeout=deadline).decode()
                answers[name] = answers.get(name, 0) + 1
            except grpc.RpcError as error:
                errors.append(f"{error.code().name}: {error.details()}")
        print(json.dumps({"answers": answers, "failures": len(errors), "errors": errors[:3]}), flush=True)
        if hold:
            sys.stdin.read()


if __name__ == "__main__":
    main()
