"""What many tests share: message and case factories (``messages``), the web desk's sign-in
helpers (``web``), the dispute story the packet tests tell (``packet_story``), and local
stand-ins for outside services, each a real server on loopback speaking the documented
protocol (``chat_server``: an OpenAI-compatible chat server; ``shopify_fake``: Shopify's
Admin GraphQL API)."""
