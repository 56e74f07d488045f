"""Code and markup paragraphs (their string literals are no quotations) vs prose with quotes."""
import pytest

from transforms.code_text import looks_like_code

CODE = [
    # Go, flattened from a <pre> block as feeds carry it
    'retryError := fmt.Errorf("failed after %v tries", maxRetries) span.SetStatus(codes.Error, '
    'retryError.Error()) return nil, retryError }',
    # JSON
    '{ "type": "module", "name": "design-tokens", "version": "1.0.0", "scripts": { "sync": "node sync.js" } }',
    # shell
    '#!/bin/sh key="$1" artifact="$2" if [ -n "$CAS_VERBOSE" ]; then echo "Storing ${artifact}" fi',
    # Python
    '@app.middleware("http") async def authorize_request(request, call_next): '
    'origin = request.headers["Referer"] if origin.endswith("/"): origin = origin[:-1]',
    # Terraform
    'resource "aws_api_gateway_integration" "example" { rest_api_id = "${aws_api_gateway_rest_api.x.id}" '
    'type = "AWS_PROXY" }',
    # markup shown as code
    '<Principals> <Users> <User Name="myLocalAccount" AccountType="LocalSystem" /> </Users> </Principals> '
    '<Policies> <DefaultRunAsPolicy UserRef="myLocalAccount" /> </Policies>; config.Load("task.xml");',
    # C#
    'services.AddCors(options => { options.AddPolicy("AllowAll", builder => builder.AllowAnyOrigin()); });',
]

PROSE = [
    '"We will not back down," the prime minister said on Tuesday, calling the vote "a disgrace", '
    'and adding: "The people have spoken."',
    'Asked whether she would run, she replied "yes", "no" and "maybe" in turn (see https://example.com/a//b).',
    'The company\'s statement said the tool was "not ready"; critics called it "a mess" and "dangerous".',
    'Einstein\'s formula, E = mc2, was "the most famous equation", the lecturer said, let alone the rest.',
    'The bill (known as "the Act") passed 52-48: "It is a good day," said Sen. Jane Doe, D-Calif.',
    'He wrote on X: "Thanks to everyone who voted! #election2024 @team".',
]


@pytest.mark.parametrize("paragraph", CODE)
def test_code_and_markup_are_code(paragraph):
    assert looks_like_code(paragraph)


@pytest.mark.parametrize("paragraph", PROSE)
def test_prose_with_quotes_is_not_code(paragraph):
    assert not looks_like_code(paragraph)
