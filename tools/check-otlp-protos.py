#!/usr/bin/env python3
"""Checks spec/otlp/*.proto against the OTLP definition published on PyPI (opentelemetry-proto).

Our OTLP .proto files were written for this project from the public field numbers. This script
compiles them with protoc and compares every message, field (number, type, label, message or enum
type, oneof, proto3 `optional`), enum value and service method with the descriptors compiled into
the `opentelemetry-proto` package. A field or message they have and we do not is listed but allowed
(we declare the subset the collector uses); anything we declare differently is an error.

Usage: python3 tools/check-otlp-protos.py        (exit 1 on a difference)
Needs: protoc (Debian's protobuf-compiler) and `pip install opentelemetry-proto`.
"""
import importlib
import pathlib
import subprocess
import sys
import tempfile

from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "otlp"
MODULES = [
    "opentelemetry.proto.common.v1.common_pb2",
    "opentelemetry.proto.resource.v1.resource_pb2",
    "opentelemetry.proto.trace.v1.trace_pb2",
    "opentelemetry.proto.logs.v1.logs_pb2",
    "opentelemetry.proto.metrics.v1.metrics_pb2",
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    "opentelemetry.proto.collector.logs.v1.logs_service_pb2",
    "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2",
]


def ours():
    files = sorted(str(p.relative_to(SPEC)) for p in SPEC.rglob("*.proto"))
    with tempfile.NamedTemporaryFile(suffix=".pb") as out:
        subprocess.run(["protoc", f"-I{SPEC}", f"--descriptor_set_out={out.name}", *files], check=True)
        data = descriptor_pb2.FileDescriptorSet.FromString(pathlib.Path(out.name).read_bytes())
    return list(data.file)


def theirs():
    result = []
    for name in MODULES:
        proto = descriptor_pb2.FileDescriptorProto()
        importlib.import_module(name).DESCRIPTOR.CopyToProto(proto)
        result.append(proto)
    return result


def index(files):
    """Full name → (kind, descriptor proto) for messages, enums and services, nested ones too."""
    table = {}

    def add_message(prefix, message):
        full = f"{prefix}.{message.name}"
        table[full] = ("message", message)
        for nested in message.nested_type:
            add_message(full, nested)
        for enum in message.enum_type:
            table[f"{full}.{enum.name}"] = ("enum", enum)

    for file in files:
        prefix = "." + file.package
        for message in file.message_type:
            add_message(prefix, message)
        for enum in file.enum_type:
            table[f"{prefix}.{enum.name}"] = ("enum", enum)
        for service in file.service:
            table[f"{prefix}.{service.name}"] = ("service", service)
    return table


def field_shape(message, field):
    oneof = None
    if field.HasField("oneof_index") and not field.proto3_optional:
        oneof = message.oneof_decl[field.oneof_index].name
    return {
        "name": field.name,
        "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
        "label": descriptor_pb2.FieldDescriptorProto.Label.Name(field.label),
        "type_name": field.type_name,
        "oneof": oneof,
        "optional": field.proto3_optional,
    }


def compare(our_table, their_table):
    errors, notes = [], []
    for full, (kind, ours_) in sorted(our_table.items()):
        if full not in their_table:
            errors.append(f"{full}: not in opentelemetry-proto")
            continue
        their_kind, theirs_ = their_table[full]
        if kind != their_kind:
            errors.append(f"{full}: a {kind} here, a {their_kind} there")
            continue
        if kind == "message":
            their_fields = {f.number: f for f in theirs_.field}
            for field in ours_.field:
                if field.number not in their_fields:
                    errors.append(f"{full}.{field.name} = {field.number}: no field has this number there")
                    continue
                mine, other = field_shape(ours_, field), field_shape(theirs_, their_fields[field.number])
                for key in mine:
                    if mine[key] != other[key]:
                        errors.append(f"{full}.{field.name} = {field.number}: {key} is {mine[key]!r} here, {other[key]!r} there")
            our_numbers = {f.number for f in ours_.field}
            for number, field in sorted(their_fields.items()):
                if number not in our_numbers:
                    notes.append(f"{full}.{field.name} = {number}: not declared here (allowed)")
            their_reserved = {(r.start, r.end) for r in theirs_.reserved_range}
            for reserved in ours_.reserved_range:
                if (reserved.start, reserved.end) not in their_reserved:
                    errors.append(f"{full}: reserved {reserved.start}..{reserved.end - 1} is not reserved there")
        elif kind == "enum":
            their_values = {v.name: v.number for v in theirs_.value}
            for value in ours_.value:
                if their_values.get(value.name) != value.number:
                    errors.append(f"{full}.{value.name} = {value.number}: there it is {their_values.get(value.name)!r}")
        elif kind == "service":
            their_methods = {m.name: m for m in theirs_.method}
            for method in ours_.method:
                other = their_methods.get(method.name)
                if other is None or (other.input_type, other.output_type) != (method.input_type, method.output_type):
                    errors.append(f"{full}/{method.name}: differs or is missing there")
    for full in sorted(set(their_table) - set(our_table)):
        notes.append(f"{full}: not declared here (allowed)")
    return errors, notes


def main():
    our_table = index(ours())
    their_table = index(theirs())
    errors, notes = compare(our_table, their_table)
    if "-v" in sys.argv:
        for note in notes:
            print("note:", note)
    for error in errors:
        print("error:", error)
    fields = sum(len(d.field) for k, d in our_table.values() if k == "message")
    if errors:
        print(f"{len(errors)} difference(s) between spec/otlp and opentelemetry-proto")
        return 1
    print(f"spec/otlp matches opentelemetry-proto: {len(our_table)} types, {fields} fields checked ({len(notes)} of theirs not declared here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
