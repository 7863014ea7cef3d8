"""Graph exports of filtered lists (`?format=gexf`, `?format=graphml`) for Gephi,
Cytoscape and networkx: exactly the rows the list's filters select."""

import io

import networkx as nx
from django.http import HttpResponse
from django.utils import timezone

GRAPH_FORMATS = {
    "gexf": ("application/gexf+xml", nx.write_gexf),
    "graphml": ("application/graphml+xml", nx.write_graphml),
}


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


def graph_response(graph, fmt, name):
    content_type, write = GRAPH_FORMATS[fmt]
    if fmt == "gexf":  # Gephi shows a node's label: its name, not its slug
        for _node, data in graph.nodes(data=True):
            data["label"] = data.get("name", "")
    buffer = io.BytesIO()
    write(clean_attributes(graph), buffer)
    response = HttpResponse(buffer.getvalue(), content_type=f"{content_type}; charset=utf-8")
    filename = f"citydiplo-{name}-{timezone.localdate():%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
