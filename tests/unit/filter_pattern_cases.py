"""AWS's documented filter pattern / event answers, as a table of cases for the pattern
model's tests (tests/unit/test_filter_pattern.py).

Every case names its source (read 2026-12-01; see aws-facts.md, "Event filtering for
DynamoDB event source mappings, as read"):
- LAMBDA: Lambda guide, "Control which events Lambda sends to your function" (its
  comparison-operator table and examples; the events for the table rows are the row's
  example written as an event);
- DDB: Lambda guide, "Using event filtering with a DynamoDB event source";
- RULER: aws/event-ruler README.md (the matcher behind EventBridge patterns; its
  examples state which rules match its sample events);
- EB: EventBridge user guide, "Arrays in Amazon EventBridge event patterns".
Cases marked "(derived)" change one value of a documented case to show the other answer.
"""

from __future__ import annotations

from typing import Any

LAMBDA, DDB, RULER, EB = "LAMBDA", "DDB", "RULER", "EB"


# DDB's example record (a NEW_IMAGE stream record of a table keyed by CustomerName).
CUSTOMER: dict[str, Any] = {
    "eventID": "1",
    "eventVersion": "1.0",
    "dynamodb": {
        "ApproximateCreationDateTime": "1678831218.0",
        "Keys": {"CustomerName": {"S": "AnyCompany Industries"}},
        "NewImage": {
            "AccountManager": {"S": "Pat Candella"},
            "PaymentTerms": {"S": "60 days"},
            "CustomerName": {"S": "AnyCompany Industries"},
        },
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": "NEW_IMAGE",
    },
}


def manager(new: str, old: str | None = None) -> dict[str, Any]:
    ddb: dict[str, Any] = {"NewImage": {"AccountManager": {"S": new}}}
    if old is not None:
        ddb["OldImage"] = {"AccountManager": {"S": old}}
    return {"dynamodb": ddb}


# DDB's "Using the Exists operator" item, as a stream record's new image.
ORGANIZATIONS = {
    "dynamodb": {
        "NewImage": {
            "UserID": {"S": "12345"},
            "Name": {"S": "John Doe"},
            "Organizations": {"L": [{"S": "Sales"}, {"S": "Marketing"}, {"S": "Support"}]},
        }
    }
}
# LAMBDA's intermediate-node example.
PERSON = {
    "person": {
        "name": "John Doe",
        "age": 30,
        "address": {"street": "123 Main St", "city": "Anytown", "country": "USA"},
    }
}
# RULER's sample event.
EC2 = {
    "version": "0",
    "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "012345679012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running",
    },
}
EMPLOYEES = {
    "employees": [
        {"firstName": "John", "lastName": "Doe"},
        {"firstName": "Anna", "lastName": "Smith"},
        {"firstName": "Peter", "lastName": "Jones"},
    ]
}
EMPLOYEES_NESTED = {
    "employees": [
        [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}],
        [{"firstName": "Peter", "lastName": "Jones"}],
    ]
}
ARN = "arn:aws:ec2:us-east-1:{}:instance/i-b188560f"
ORDER_LINES = {  # an L of M values: keys must match inside the same element
    "dynamodb": {
        "NewImage": {
            "lines": {
                "L": [
                    {"M": {"sku": {"S": "A"}, "qty": {"N": "1"}}},
                    {"M": {"sku": {"S": "B"}, "qty": {"N": "2"}}},
                ]
            }
        }
    }
}
CLOUDWATCH_OR = {
    "source": ["aws.cloudwatch"],
    "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"namespace": ["AWS/EC2", "AWS/ES"]},
    ],
}
OR_WITH_AND = {
    "source": ["aws.cloudwatch"],
    "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"metricType": ["MetricType"], "namespace": ["AWS/EC2", "AWS/ES"]},
        {"scope": ["Service"]},
    ],
}
PARALLEL_OR = {
    "$or": [
        {"metricName": ["CPUUtilization", "ReadLatency"]},
        {"namespace": ["AWS/EC2", "AWS/ES"]},
    ],
    "detail": {
        "$or": [
            {"source": ["aws.cloudwatch"]},
            {"detail-type": ["CloudWatch Alarm State Change"]},
        ]
    },
}

# (source, pattern, record, matches)
CASES: list[tuple[str, dict[str, Any], Any, bool]] = [
    # --- DynamoDB page: keys, attributes, AND across images, exists on leaves -----------
    (
        DDB,
        {"dynamodb": {"Keys": {"CustomerName": {"S": ["AnyCompany Industries"]}}}},
        CUSTOMER,
        True,
    ),
    (
        DDB + " (derived)",
        {"dynamodb": {"Keys": {"CustomerName": {"S": ["Other Co"]}}}},
        CUSTOMER,
        False,
    ),
    (
        DDB,
        {
            "dynamodb": {
                "NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}
            }
        },
        CUSTOMER,
        True,
    ),
    (
        DDB,
        {
            "dynamodb": {
                "NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}
            }
        },
        manager("Shirley Rodriguez"),
        True,
    ),
    (
        DDB + " (derived)",
        {
            "dynamodb": {
                "NewImage": {"AccountManager": {"S": ["Pat Candella", "Shirley Rodriguez"]}}
            }
        },
        manager("Terry Whitlock"),
        False,
    ),
    (
        DDB,
        {
            "dynamodb": {
                "NewImage": {"AccountManager": {"S": ["Pat Candella"]}},
                "OldImage": {"AccountManager": {"S": ["Terry Whitlock"]}},
            }
        },
        manager("Pat Candella", old="Terry Whitlock"),
        True,
    ),
    (
        DDB + " (derived)",
        {
            "dynamodb": {
                "NewImage": {"AccountManager": {"S": ["Pat Candella"]}},
                "OldImage": {"AccountManager": {"S": ["Terry Whitlock"]}},
            }
        },
        manager("Pat Candella", old="Shirley Rodriguez"),
        False,
    ),
    (DDB, {"dynamodb": {"NewImage": {"Organizations": [{"exists": True}]}}}, ORGANIZATIONS, False),
    (
        DDB,
        {"dynamodb": {"NewImage": {"Organizations": {"L": {"S": [{"exists": True}]}}}}},
        ORGANIZATIONS,
        True,
    ),
    (
        DDB + " (derived)",
        {"dynamodb": {"NewImage": {"Organizations": {"L": {"S": ["Marketing"]}}}}},
        ORGANIZATIONS,
        True,
    ),
    (
        LAMBDA,
        {"dynamodb": {"Keys": {"Number": {"N": ["4567"]}}}},
        {"dynamodb": {"Keys": {"ID": {"S": "ABCD"}, "Number": {"N": "1234"}}}},
        False,
    ),
    (
        LAMBDA + " (derived)",
        {"dynamodb": {"Keys": {"Number": {"N": ["4567"]}}}},
        {"dynamodb": {"Keys": {"ID": {"S": "ABCD"}, "Number": {"N": "4567"}}}},
        True,
    ),
    # --- Lambda's intermediate-node note ------------------------------------------------
    (LAMBDA, {"person": {"address": [{"exists": True}]}}, PERSON, False),
    (LAMBDA + " (derived)", {"person": {"name": [{"exists": True}]}}, PERSON, True),
    (LAMBDA + " (derived)", {"person": {"address": {"city": ["Anytown"]}}}, PERSON, True),
    # --- Lambda's comparison-operator table, row by row ---------------------------------
    (LAMBDA, {"UserID": [None]}, {"UserID": None}, True),
    (LAMBDA + " (derived)", {"UserID": [None]}, {"UserID": "u-1"}, False),
    (LAMBDA + " (derived)", {"UserID": [None]}, {}, False),  # missing is not null
    (LAMBDA, {"LastName": [""]}, {"LastName": ""}, True),
    (LAMBDA + " (derived)", {"LastName": [""]}, {"LastName": "Doe"}, False),
    (LAMBDA, {"Name": ["Alice"]}, {"Name": "Alice"}, True),
    (LAMBDA, {"Name": ["Alice"]}, {"Name": "alice"}, False),  # no case-folding
    (LAMBDA, {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alice"}, True),
    (LAMBDA + " (derived)", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "Alicia"}, False),
    (
        LAMBDA,
        {"Location": ["New York"], "Day": ["Monday"]},
        {"Location": "New York", "Day": "Monday"},
        True,
    ),
    (
        LAMBDA + " (derived)",
        {"Location": ["New York"], "Day": ["Monday"]},
        {"Location": "New York", "Day": "Friday"},
        False,
    ),
    (LAMBDA, {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Debit"}, True),
    (LAMBDA + " (derived)", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Cash"}, False),
    (
        LAMBDA,
        {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]},
        {"Location": "Boston", "Day": "Monday"},
        True,
    ),
    (
        LAMBDA + " (derived)",
        {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]},
        {"Location": "Boston", "Day": "Friday"},
        False,
    ),
    (LAMBDA, {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, True),
    (
        LAMBDA + " (derived)",
        {"Weather": [{"anything-but": ["Raining"]}]},
        {"Weather": "Raining"},
        False,
    ),
    (LAMBDA + " (derived)", {"Weather": [{"anything-but": ["Raining"]}]}, {}, False),
    (LAMBDA, {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, True),
    (LAMBDA + " (derived)", {"Price": [{"numeric": ["=", 100]}]}, {"Price": "100"}, False),
    (LAMBDA, {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, True),
    (LAMBDA + " (derived)", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 10}, False),
    (LAMBDA + " (derived)", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 15.5}, True),
    (LAMBDA, {"ProductName": [{"exists": True}]}, {"ProductName": "Widget"}, True),
    (LAMBDA + " (derived)", {"ProductName": [{"exists": True}]}, {"Other": 1}, False),
    (LAMBDA, {"ProductName": [{"exists": False}]}, {"Other": 1}, True),
    (LAMBDA + " (derived)", {"ProductName": [{"exists": False}]}, {"ProductName": "Widget"}, False),
    (LAMBDA, {"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, True),
    (LAMBDA + " (derived)", {"Region": [{"prefix": "us-"}]}, {"Region": "eu-west-1"}, False),
    (LAMBDA, {"FileName": [{"suffix": ".png"}]}, {"FileName": "photo.png"}, True),
    (LAMBDA + " (derived)", {"FileName": [{"suffix": ".png"}]}, {"FileName": "photo.jpg"}, False),
    # "For numbers, Lambda also uses string representation": 300 and 300.0 differ.
    (LAMBDA, {"Price": [300]}, {"Price": 300.0}, False),
    (LAMBDA + " (derived)", {"Price": [300]}, {"Price": 300}, True),
    # JSON literals compare by type: true is not 1, "true" is not true.
    (RULER + " (derived)", {"flag": [1]}, {"flag": True}, False),
    (RULER + " (derived)", {"flag": ["true"]}, {"flag": True}, False),
    (RULER + " (derived)", {"flag": [True]}, {"flag": True}, True),
    # --- event-ruler README on its sample event -----------------------------------------
    (
        RULER,
        {
            "detail-type": ["EC2 Instance State-change Notification"],
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
            "detail": {"state": ["initializing", "running"]},
        },
        EC2,
        True,
    ),
    (RULER, {"time": [{"prefix": "2017-10-02"}]}, EC2, True),
    (RULER, {"source": [{"suffix": "ec2"}]}, EC2, True),
    # The README's own equals-ignore-case rule ("EC2") is no case variant of "aws.ec2".
    (RULER, {"source": [{"equals-ignore-case": "EC2"}]}, EC2, False),
    (RULER + " (derived)", {"source": [{"equals-ignore-case": "AWS.EC2"}]}, EC2, True),
    (RULER, {"detail": {"state": [{"anything-but": "initializing"}]}}, EC2, True),
    (RULER, {"detail": {"x-limit": [{"anything-but": 123}]}}, EC2, True),
    (RULER, {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}}, EC2, True),
    (RULER, {"detail": {"x-limit": [{"anything-but": [100, 200, 300]}]}}, EC2, True),
    (
        RULER,
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        EC2,
        True,
    ),
    (RULER, {"detail": {"c-count": [{"exists": True}]}}, EC2, True),
    (RULER, {"detail": {"c-count": [{"exists": False}]}}, EC2, False),
    # exists: false also matches where c-count is an object, not a leaf.
    (
        RULER,
        {"detail": {"c-count": [{"exists": False}]}},
        {"detail": {"c-count": {"c1": 100}}},
        True,
    ),
    (
        RULER + " (complex example without its cidr, which Lambda lacks)",
        {
            "time": [{"prefix": "2017-10-02"}],
            "detail": {
                "state": [{"anything-but": "initializing"}],
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"anything-but": [100, 200, 300]}],
            },
        },
        EC2,
        True,
    ),
    (RULER, CLOUDWATCH_OR, {"source": "aws.cloudwatch", "metricName": "CPUUtilization"}, True),
    (
        RULER + " (derived)",
        CLOUDWATCH_OR,
        {"source": "aws.cloudwatch", "namespace": "AWS/Lambda"},
        False,
    ),
    (
        RULER,
        OR_WITH_AND,
        {"source": "aws.cloudwatch", "metricType": "MetricType", "namespace": "AWS/EC2"},
        True,
    ),
    (
        RULER + " (derived)",
        OR_WITH_AND,
        {"source": "aws.cloudwatch", "metricType": "MetricType"},
        False,
    ),
    (RULER, PARALLEL_OR, {"namespace": "AWS/ES", "detail": {"source": "aws.cloudwatch"}}, True),
    (
        RULER + " (derived)",
        PARALLEL_OR,
        {"namespace": "AWS/ES", "detail": {"state": "ALARM"}},
        False,
    ),
    # --- arrays: of values, of objects, nested, consistent per element ------------------
    (RULER, {"employees": {"firstName": ["Anna"]}}, EMPLOYEES, True),
    (RULER, {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}}, EMPLOYEES, False),
    (
        RULER + " (derived)",
        {"employees": {"firstName": ["Anna"], "lastName": ["Smith"]}},
        EMPLOYEES,
        True,
    ),
    (RULER, {"employees": {"firstName": ["Anna"]}}, EMPLOYEES_NESTED, True),
    (
        RULER + " (derived)",
        {"employees": {"firstName": ["Anna"], "lastName": ["Jones"]}},
        EMPLOYEES_NESTED,
        False,
    ),
    (
        EB,
        {
            "resources": [
                ARN.format("123456789012"),
                ARN.format("111122223333"),
                ARN.format("444455556666"),
            ]
        },
        {
            "resources": [
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b",
                ARN.format("123456789012"),
            ]
        },
        True,
    ),
    (
        EB + " (derived)",
        {"resources": [ARN.format("111122223333")]},
        {"resources": [ARN.format("123456789012")]},
        False,
    ),
    (
        RULER + " (derived, DynamoDB L of M)",
        {
            "dynamodb": {
                "NewImage": {"lines": {"L": {"M": {"sku": {"S": ["A"]}, "qty": {"N": ["2"]}}}}}
            }
        },
        ORDER_LINES,
        False,
    ),
    (
        RULER + " (derived, DynamoDB L of M)",
        {
            "dynamodb": {
                "NewImage": {"lines": {"L": {"M": {"sku": {"S": ["B"]}, "qty": {"N": ["2"]}}}}}
            }
        },
        ORDER_LINES,
        True,
    ),
    # An empty array holds no leaf: exists true fails, exists false holds.
    (RULER + " (derived)", {"tags": [{"exists": True}]}, {"tags": []}, False),
    (RULER + " (derived)", {"tags": [{"exists": False}]}, {"tags": []}, True),
    # --- dotted keys: the same path as nesting, in the pattern and in the event ---------
    (
        RULER,
        {"detail": {"state.status": ["running"]}},
        {"detail": {"state": {"status": "running"}}},
        True,
    ),
    (
        RULER,
        {"detail": {"state.status": ["running"]}},
        {"detail": {"state.status": "running"}},
        True,
    ),
    (
        RULER,
        {"detail": {"state": {"status": ["running"]}}},
        {"detail": {"state.status": "running"}},
        True,
    ),
    (
        RULER + " (derived)",
        {"detail.state.status": ["running"]},
        {"detail": {"state": {"status": "stopped"}}},
        False,
    ),
]
