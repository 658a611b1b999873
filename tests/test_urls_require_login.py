"""Walk the whole URLconf: every route but the public share link sends an anonymous user to a login page,
and every API route answers an anonymous request with a JSON 401 (a script cannot follow a login form)."""

import json
import re

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Routes that must answer an anonymous visitor: the login pages themselves (single sign-on's start
# and callback among them), and share links.
PUBLIC = {
    "login",
    "logout",
    "shared_step",
    "admin:login",
    "admin:logout",
    "admin_login",
    "oidc_login",
    "oidc_callback",
}
# a value each path converter accepts
SAMPLE_ARGS = {
    "int": "1",
    "step_id": "step-00000000-0000-4000-8000-000000000000",
    "run_id": "run-00000000-0000-4000-8000-000000000000",
    "agent_id": "agent-00000000-0000-4000-8000-000000000000",
}
ARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name}" if p.name else ""


def concrete(route: str) -> str:
    """A URL for a route: path converters get a plausible value, regex routes a plain one."""
    route = ARG.sub(lambda m: SAMPLE_ARGS.get(m["conv"], "x"), route)
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = re.sub(r"[\\^$?*+()\[\]]", "", route)
    return "/" + route


def routes():
    return sorted(set(walk(get_resolver().url_patterns)))


def is_api(name: str) -> bool:
    # the docs page is a page (HTML, for a browser): it sends to the login form like any other
    return name.startswith("api:") and name != "api:docs"


def private_routes():
    return [(route, name) for route, name in routes() if name not in PUBLIC and not is_api(name)]


def api_routes():
    return [(route, name) for route, name in routes() if is_api(name)]


def test_urlconf_has_routes():
    names = {name for _, name in routes()}
    assert {"step_list", "step_detail", "run_detail", "shared_step", "share_create"} <= names


@pytest.mark.parametrize(("route", "name"), private_routes())
def test_anonymous_is_sent_to_login(client, route, name):
    url = concrete(route)
    response = client.get(url)
    login = resolve_url(settings.LOGIN_URL)
    assert response.status_code == 302, f"{url} answered {response.status_code}"
    assert response["Location"].startswith((login, "/admin/login/")), response["Location"]


def test_the_api_has_routes():
    names = {name for _, name in api_routes()}
    assert {"api:step-list", "api:step-detail", "api:step-feedback", "api:schema"} <= names


@pytest.mark.parametrize(("route", "name"), api_routes())
def test_anonymous_api_request_is_a_json_401(client, route, name):
    url = concrete(route)
    for response in (client.get(url), client.post(url, {"value": "positive"})):
        assert response.status_code == 401, f"{url} answered {response.status_code}"
        assert re.fullmatch(r"application/(vnd\.oai\.openapi\+)?json", response["Content-Type"])
        assert json.loads(response.content)["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_anonymous_post_is_sent_to_login(client):
    for url in (f"/steps/{SAMPLE_ARGS['step_id']}/share/", "/share-links/1/revoke/"):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_public_routes_are_only_the_login_pages_and_share_links():
    public = {name for _, name in routes() if name in PUBLIC}
    assert public == PUBLIC  # a renamed route would otherwise silently leave this list


def test_share_route_is_public(client):
    assert client.get("/share/not-a-token/").status_code == 404
