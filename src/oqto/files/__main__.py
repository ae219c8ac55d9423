from oqto.files.cli import main

main()
