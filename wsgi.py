from marac import create_app

app = create_app()
