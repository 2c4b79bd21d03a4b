"""The Gradio Blocks app: one module per tab, no model code here."""
