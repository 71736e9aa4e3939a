"""The provider sandbox: one local process that answers like Twilio, Plivo, Exotel and Daily.

Breeze's real adapters talk to it exactly as they talk to the vendors (their API base URLs
point here). A placed call rings, fires the vendor's signed status callbacks in the vendor's
order, fetches Breeze's answer document and connects a scripted customer (the simulator's
personas, real synthesized speech) to Breeze's media websocket in that vendor's stream
protocol. Magic destination numbers (numbers.py) produce the vendor's documented errors.

It never imports leads or calls: it only knows what a vendor knows, the requests it gets.
"""
