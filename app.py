"""mixviz web app: page config, navigation over pages/, shared sidebar."""
import streamlit as st

st.set_page_config(page_title="mixviz: image-mixing augmentation", page_icon="🧪", layout="wide")
page = st.navigation([st.Page("pages/mixing_lab.py", title="Mixing Lab", icon="🧪", default=True)])
st.sidebar.markdown("**mixviz** shows what image-mixing data augmentation does to pictures and labels.")
page.run()
