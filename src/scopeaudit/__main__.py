from scopeaudit.cli import main

main()
