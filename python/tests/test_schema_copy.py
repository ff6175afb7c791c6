"""The PostgreSQL schema ships in both packages (each must carry its own file); the two copies
must stay the same text, so that Python and Node workers can share one table."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_python_and_node_ship_the_same_schema() -> None:
    py = (REPO / "python" / "sosopay" / "stores" / "schema.sql").read_text()
    node = (REPO / "node" / "stores" / "schema.sql").read_text()
    assert py == node
