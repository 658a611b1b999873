"""Thin views, one module per page family: the step list and pages (`steps`), review actions
(`review`), and the compare pages (`compare`). Each parses the request, asks the models and
querysets, and renders a page or its htmx partial."""
