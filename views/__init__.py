"""The app's pages, one module each: render() draws the page from a few section functions (app.py
registers them with st.navigation). No maths here: that is mixviz's; the shared controls are ui's."""
