"""helsesim-app: the model in the browser for policy analysts (``pip install 'helsesim[app]'``).

* :mod:`helsesim.app.server`: the ``helsesim-app`` command (Solara, offline, 127.0.0.1).
* :mod:`helsesim.app.page`: the page (Solara components and per-session state).
* :mod:`helsesim.app.adapter`: the only module that calls helsesim; re-point it after a
  restructuring of the package.
* :mod:`helsesim.app.figures`: the locator map of Norway.

Mesa's ``SolaraViz`` is a whole page built around one live model (its own app bar, sidebar and
parameter form), while this app is built around experiments of paired seeds; so the app uses
Mesa's visualisation where it fits, the step mode: ``ModelController`` (reset, play, step) and
``update_counter`` drive one ``HealthSystem`` year by year.
"""
