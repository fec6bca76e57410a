"""Django app (label ``fxapp``) that owns the fixture generator's model.

The model itself is defined at run time by ``generate.py`` (fields depend on ``--library`` and
``Meta.db_table`` on ``--table``); this package only has to exist so Django can register the app.
"""
