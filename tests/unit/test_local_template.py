"""The local stack's reading of template.yaml: aws-sam-translator's loader, and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from lfv_workbench.local.template import TemplateLoadError, load_template, load_template_text

TEXT = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: HasTopic
    Properties:
      TopicName: !Sub "${AWS::StackName}-topic"
      KmsMasterKeyId: !GetAtt Key.Arn
      Tags:
        - Key: stage
          Value: !If [HasTopic, !Ref Stage, !FindInMap [Map, !Ref Stage, Name]]
"""


def test_short_form_tags_read_as_their_json_form() -> None:
    # Given a template written with CloudFormation's short-form tags
    # When it is loaded
    template = load_template_text(TEXT)
    # Then each tag is the intrinsic function CloudFormation reads, nested ones too
    properties = template["Resources"]["Topic"]["Properties"]
    assert properties["TopicName"] == {"Fn::Sub": "${AWS::StackName}-topic"}
    assert properties["KmsMasterKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert properties["Tags"][0]["Value"] == {
        "Fn::If": [
            "HasTopic",
            {"Ref": "Stage"},
            {"Fn::FindInMap": ["Map", {"Ref": "Stage"}, "Name"]},
        ]
    }
    # and the version stays the string it is quoted as
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"


def test_the_projects_template_loads() -> None:
    template = load_template(Path(__file__).parents[2] / "template.yaml")
    assert template["Resources"]["PollerFunction"]["Type"] == "AWS::Serverless::Function"


def test_what_is_not_a_template_is_refused_naming_the_source(tmp_path: Path) -> None:
    with pytest.raises(TemplateLoadError, match=r"^t\.yaml: not valid YAML"):
        load_template_text("Resources: [unclosed", source="t.yaml")
    with pytest.raises(TemplateLoadError, match=r"^t\.yaml: not a CloudFormation template"):
        load_template_text("just: text\n", source="t.yaml")
    missing = tmp_path / "missing.yaml"
    with pytest.raises(TemplateLoadError, match=r"missing\.yaml: cannot read the template"):
        load_template(missing)
