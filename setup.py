from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kyrios.exchange.engine._cbook",
            ["src/kyrios/exchange/engine/_cbook.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
