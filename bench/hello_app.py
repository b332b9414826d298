"""The baseline for endpoint benchmarks: a bare Flask app that answers "hello"."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "hello"
