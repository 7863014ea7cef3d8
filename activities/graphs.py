"""Graph exports of filtered lists (`?format=gexf`, `?format=graphml`) for Gephi,
Cytoscape and networkx: exactly the rows the list's filters select.

GraphML goes through networkx's writer. GEXF is written here, line by line, because
networkx's writer builds the whole XML tree first: 5.4 s for the 24,300 imported
twinnings against 1.6 s written directly (bench/analysis.py, same run); the tests read
both back with networkx.
"""

import io
from functools import partial
from xml.sax.saxutils import quoteattr

import networkx as nx
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

GRAPH_FORMATS = ("gexf", "graphml")
CONTENT_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml"}
#: Without indentation: a third faster than networkx's default (bench/analysis.py).
write_graphml = partial(nx.write_graphml, prettyprint=False)

GEXF_TYPES = {str: "string", int: "long", float: "double", bool: "boolean"}


def clean_attributes(graph):
    """GEXF and GraphML take str, int, float and bool: decimals become floats and an
    unknown value (a place with no coordinates) is left out rather than invented."""
    for _node, data in graph.nodes(data=True):
        for key, value in list(data.items()):
            if value is None:
                del data[key]
            elif not isinstance(value, str | int | float | bool):
                data[key] = float(value)
    return graph


def _declarations(kind, items):
    """The attribute declarations of nodes or edges: every key that any item carries,
    typed by its first value."""
    types = {}
    for _key, data in items:
        for name, value in data.items():
            types.setdefault(name, GEXF_TYPES[type(value)])
    types.pop("label", None)
    ids = {name: str(i) for i, name in enumerate(types)}
    lines = [f'<attributes class="{kind}">']
    lines += [
        f"<attribute id={quoteattr(ids[name])} title={quoteattr(name)} type={quoteattr(kind_)}/>"
        for name, kind_ in types.items()
    ]
    lines.append("</attributes>")
    return ids, "".join(lines)


def _attvalues(ids, data):
    values = "".join(
        f"<attvalue for={quoteattr(ids[name])} value={quoteattr(str(value).lower() if isinstance(value, bool) else str(value))}/>"  # noqa: E501
        for name, value in data.items()
        if name in ids
    )
    return f"<attvalues>{values}</attvalues>" if values else ""


def gexf_lines(graph):
    """GEXF 1.2 of an undirected graph whose node and edge attributes are str, int,
    float or bool; nodes labelled by their `name`."""
    node_ids, node_attributes = _declarations("node", graph.nodes(data=True))
    edges = [((a, b), data) for a, b, data in graph.edges(data=True)]
    edge_ids, edge_attributes = _declarations("edge", [(None, d) for _e, d in edges])
    yield (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">'
        f'<meta lastmodifieddate="{timezone.localdate():%Y-%m-%d}"><creator>CityDiplo</creator>'
        "</meta>"
        '<graph defaultedgetype="undirected" mode="static">'
        f"{node_attributes}{edge_attributes}<nodes>\n"
    )
    for node, data in graph.nodes(data=True):
        label = quoteattr(str(data.get("name", node)))
        yield f"<node id={quoteattr(str(node))} label={label}>{_attvalues(node_ids, data)}</node>\n"
    yield "</nodes><edges>\n"
    for number, ((a, b), data) in enumerate(edges):
        edge_id = quoteattr(str(data.get("id", number)))
        yield (
            f"<edge id={edge_id} source={quoteattr(str(a))} target={quoteattr(str(b))}>"
            f"{_attvalues(edge_ids, data)}</edge>\n"
        )
    yield "</edges></graph></gexf>\n"


def graph_response(graph, fmt, name):
    clean_attributes(graph)
    content_type = f"{CONTENT_TYPES[fmt]}; charset=utf-8"
    if fmt == "gexf":
        response = StreamingHttpResponse(gexf_lines(graph), content_type=content_type)
    else:
        buffer = io.BytesIO()
        write_graphml(graph, buffer)
        response = HttpResponse(buffer.getvalue(), content_type=content_type)
    filename = f"citydiplo-{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
