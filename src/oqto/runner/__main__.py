from oqto.runner.cli import run

run()
