"""The command layer: ``tladvise``, ``tltune``, ``tlpredict`` and ``tlreport``.

It sits above both libraries (``tlcli -> tuner -> advisor``; neither library imports
it) and holds no logic of its own: each command module parses its options, calls
the library through its public face, renders the result, and leaves every error to
the one boundary in :mod:`tlcli._errors` (exit 0 ok, 2 bad input or configuration,
1 internal error, 130 interrupted; ``TL_DEBUG=1`` shows tracebacks).

* :mod:`tlcli.advise`  -- ``tladvise`` (:func:`advisor.advise`; ``--verify``:
  :func:`tuner.verify.verify_advice`)
* :mod:`tlcli.tune`    -- ``tltune`` (:func:`tuner.tune`)
* :mod:`tlcli.predict` -- ``tlpredict`` (:func:`tuner.predict`)
* :mod:`tlcli.report`  -- ``tlreport`` (re-render a saved advice.json or results.json)
* :mod:`tlcli._errors` -- the shared error handler; :mod:`tlcli._app` -- app settings
  and quiet library logs

Importing a command module imports neither TensorFlow nor Optuna (``--help`` stays
fast); the libraries are imported inside the command bodies.
"""
