"""Kafka (KRaft) and RabbitMQ, as `scripts/services` runs them, through their usual clients."""

from __future__ import annotations

import base64
import secrets
import urllib.parse

import pika
import pytest
from confluent_kafka import Consumer, Producer

from tests.support.service_env import http_call, http_json, required_env

pytestmark = pytest.mark.services


def test_kafka_round_trips_a_message() -> None:
    bootstrap = required_env("KAFKA_BOOTSTRAP_SERVERS")
    topic = f"services-test-{secrets.token_hex(4)}"
    payload = secrets.token_bytes(16)

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    delivered: list[object] = []
    producer.produce(topic, value=payload, on_delivery=lambda err, _msg: delivered.append(err))
    assert producer.flush(30) == 0, "the message was not delivered within 30s"
    assert delivered == [None]

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": topic,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        received = None
        for _ in range(30):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                received = message.value()
                break
        assert received == payload
    finally:
        consumer.close()


def test_rabbitmq_publishes_and_gets_a_message() -> None:
    parameters = pika.URLParameters(required_env("RABBITMQ_URL"))
    connection = pika.BlockingConnection(parameters)
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        queue = channel.queue_declare(queue="", exclusive=True).method.queue
        body = secrets.token_bytes(16)
        channel.basic_publish(exchange="", routing_key=queue, body=body)
        _method, _properties, received = channel.basic_get(queue, auto_ack=True)
        assert received == body
    finally:
        connection.close()


def test_rabbitmq_management_api_makes_a_vhost_that_amqp_can_use() -> None:
    management = urllib.parse.urlsplit(required_env("RABBITMQ_MANAGEMENT_URL"))
    credentials = f"{management.username}:{management.password}".encode()
    headers = {
        "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        "Content-Type": "application/json",
    }
    base = f"http://{management.hostname}:{management.port}/api"
    vhost = f"services-test-{secrets.token_hex(4)}"
    overview = http_json(f"{base}/overview", headers=headers)
    assert overview["rabbitmq_version"]

    http_call(f"{base}/vhosts/{vhost}", method="PUT", data=b"{}", headers=headers)
    try:
        http_call(
            f"{base}/permissions/{vhost}/{management.username}",
            method="PUT",
            data=b'{"configure": ".*", "write": ".*", "read": ".*"}',
            headers=headers,
        )
        url = required_env("RABBITMQ_URL").rstrip("/") + "/" + vhost
        connection = pika.BlockingConnection(pika.URLParameters(url))
        assert connection.is_open
        connection.close()
    finally:
        http_call(f"{base}/vhosts/{vhost}", method="DELETE", headers=headers)
