# ruff: noqa: E501 (the templates below are kept as the project writes them)
"""What Jinja2 would save on the public pages: the twinnings list's rows and facets
rendered from one context by Django's template engine and by Jinja2.

    DATABASE_URL=sqlite:////tmp/world.sqlite3 .venv/bin/python bench/jinja2_rendering.py

The view builds its context once (`/twinnings/?country=DE` by default, on a database
prepared as for bench/render_pages.py); then the part of the page that grows with the
data (the 50 result rows and the facets with their up to 100 linked choices each) is
rendered --repeat times by each engine, from the same objects. The Django side renders
the project's own templates (`activities/twinning_list.html`'s rows block and
`includes/_facets.html`, copied below as written); the Jinja2 side the same markup in
Jinja2's syntax, with autoescaping on. It prints the median milliseconds of each and
checks that both give the same text (whitespace aside). An experiment to decide whether
porting the public templates pays (issue 13), not something the site runs.
"""

import argparse
import re
import statistics
import sys
import time

from render_pages import setup_django

DJANGO_ROWS = """{% load humanize %}{% for twinning in twinning_list %}
<tr>
  <th scope="row"><a href="{{ twinning.get_absolute_url }}">{{ twinning.city_a.name }}</a></th>
  <td>{{ twinning.city_a.country.name }}</td>
  <td><a href="{{ twinning.get_absolute_url }}">{{ twinning.city_b.name }}</a></td>
  <td>{{ twinning.city_b.country.name }}</td>
  <td>{{ twinning.get_kind_display }}</td>
  <td class="num">{{ twinning.start_year|default_if_none:"" }}</td>
  <td><span class="tag status-{{ twinning.status }}">{{ twinning.get_status_display }}</span>{% if twinning.status_since %} <span class="muted">{{ twinning.status_since }}</span>{% endif %}</td>
</tr>
{% endfor %}{% include "includes/_facets.html" %}"""

JINJA_ROWS = """{% macro choices(items) %}{% for choice in items %}{% if choice.selected %}<li class="selected"><a href="{{ choice.url }}" aria-current="true" title="Remove this filter"><span class="facet-label"><span aria-hidden="true">✓ </span>{{ choice.label }}</span> <span class="facet-count">{{ choice.count|intcomma }}</span></a></li>{% else %}<li><a href="{{ choice.url }}"><span class="facet-label">{{ choice.label }}</span> <span class="facet-count">{{ choice.count|intcomma }}</span></a></li>{% endif %}
{% endfor %}{% endmacro %}{% for twinning in twinning_list %}
<tr>
  <th scope="row"><a href="{{ twinning.get_absolute_url() }}">{{ twinning.city_a.name }}</a></th>
  <td>{{ twinning.city_a.country.name }}</td>
  <td><a href="{{ twinning.get_absolute_url() }}">{{ twinning.city_b.name }}</a></td>
  <td>{{ twinning.city_b.country.name }}</td>
  <td>{{ twinning.get_kind_display() }}</td>
  <td class="num">{{ "" if twinning.start_year is none else twinning.start_year }}</td>
  <td><span class="tag status-{{ twinning.status }}">{{ twinning.get_status_display() }}</span>{% if twinning.status_since %} <span class="muted">{{ twinning.status_since }}</span>{% endif %}</td>
</tr>
{% endfor %}<div class="facets">
  {% for facet in facets %}
  {% if facet.choices %}
  <section class="facet" aria-labelledby="facet-{{ facet.name }}">
    <h2 id="facet-{{ facet.name }}">{{ facet.label }}</h2>
    <ul>{{ choices(facet.top) }}</ul>
    {% if facet.rest %}
    <details>
      <summary>{{ facet.rest|length }} more</summary>
      <ul>{{ choices(facet.rest) }}</ul>
      {% if facet.hidden %}<p class="muted">And {{ facet.hidden }} smaller ones: type one in the filter above.</p>{% endif %}
    </details>
    {% endif %}
  </section>
  {% endif %}
  {% endfor %}
</div>
"""


def median_ms(render, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def words(html):
    """The text with runs of white space as one, and one spelling of the apostrophe's
    escape (Django writes &#x27;, Jinja2 &#39;)."""
    return re.sub(r"\s+", " ", html).strip().replace("&#x27;", "&#39;")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", nargs="?", default="/twinnings/?country=DE")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    setup_django()

    import jinja2
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.template import engines
    from django.test import RequestFactory

    from activities.views import TwinningListView

    request = RequestFactory(SERVER_NAME="localhost").get(args.path)
    view = TwinningListView()
    view.setup(request)
    context = view.get(request).context_data  # a TemplateResponse, not yet rendered
    context["twinning_list"] = list(context["twinning_list"])  # queried once, not timed

    django_template = engines["django"].from_string(DJANGO_ROWS)
    environment = jinja2.Environment(autoescape=True)
    environment.filters["intcomma"] = intcomma
    jinja_template = environment.from_string(JINJA_ROWS)

    def django_render():
        return django_template.render(context)

    def jinja_render():
        return jinja_template.render(context)

    same = words(django_render()) == words(jinja_render())
    if not same:
        import difflib

        a, b = words(django_render()).split("<"), words(jinja_render()).split("<")
        print("\n".join(list(difflib.unified_diff(a, b, lineterm="", n=0))[:20]))
    django_ms = median_ms(django_render, args.repeat)
    jinja_ms = median_ms(jinja_render, args.repeat)
    rows, choices = (
        len(context["twinning_list"]),
        sum(len(facet.choices) for facet in context["facets"]),
    )
    print(f"{args.path}: {rows} rows, {choices} facet choices; median of {args.repeat}")
    print(f"Django templates {django_ms:7.2f} ms")
    print(f"Jinja2           {jinja_ms:7.2f} ms  ({django_ms / jinja_ms:.1f}x faster)")
    print(f"same text: {same}")
    for name in ("includes/_filters.html", "list_page.html"):
        part = engines["django"].get_template(name)
        ms = median_ms(lambda part=part: part.render(context, request), args.repeat)
        print(f"for scale, Django renders {name}: {ms:.2f} ms")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
