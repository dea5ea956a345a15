"""tritune's tuned configuration in other hands (./tune.sh export, ./tune.sh merge).

    export --to bitnet    bitnet.cpp's include/kernel_config.ini (TL1/TL2 tiles per shape)
    export --to tmac      T-MAC's kcfg.ini (row tiles per kernel shape)
    export --to c-bundle  the winning kernels' sources, their references and a table, built by CMake
    export --to json      tuned.json, validated against schema/tuned.schema.json
    merge DIR...          one database keyed by machine fingerprint + a cross-machine report

docs/export.md describes each target, its sources and what cannot be expressed there.
"""
